"""Reports: the notebook-side recorder (:mod:`.notebook`) and the monthly run (:mod:`.run`)."""
