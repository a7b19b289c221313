"""(moving) Kept until every analysis has moved: see report/params.py, report/paths.py, period.py."""

from .errors import ParameterError  # noqa: F401
from .period import resolve_month  # noqa: F401
from .report.params import RUN_KEY, defaults, notebook_parameters, parse_override, read_yaml  # noqa: F401
from .report.paths import project_root, resolve_path  # noqa: F401
