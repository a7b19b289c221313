"""Japanese tokenizers for comment themes (issue 18.4): janome vs fugashi + unidic-lite on 2,000
synthetic Japanese churn comments (import + dictionary load, tokens per second, each token read with
its part of speech as ``core.themes`` reads it).

The numbers behind the choice written in ``csresearch.core.themes``. janome is not a dependency:
install both side by side without touching the project's environment, then run each in its own
process so neither's import is warm:

    pip install --target /tmp/tok/janome janome
    pip install --target /tmp/tok/fugashi fugashi unidic-lite
    PYTHONPATH=/tmp/tok/janome python benchmarks/ja_tokenizers.py janome
    PYTHONPATH=/tmp/tok/fugashi python benchmarks/ja_tokenizers.py fugashi
    du -sh /tmp/tok/*     # installed size
"""

from __future__ import annotations

import random
import sys
import time

PHRASES = {
    "price": ["価格が高すぎて予算に合わなかった", "値上げ後のコストを社内で説明できなかった", "来期の予算削減で費用を払えない"],
    "support": ["サポートの返信が遅く、問い合わせが放置された", "不具合が多く、修正されるまで時間がかかった",
                "バグの報告に対応してもらえなかった"],
    "competitor": ["競合他社の製品に乗り換えることになった", "他社サービスへ移行した", "競合ツールの方が連携機能が充実していた"],
    "adoption": ["現場で使われず、利用者が定着しなかった", "担当者が退職して誰もログインしなくなった",
                 "導入後の活用が進まなかった"],
}
TAILS = ["", "。", "。ありがとうございました。", "。今後に期待しています。", "。残念です。"]


def main(which: str, n: int = 2000) -> None:
    start = time.perf_counter()
    if which == "janome":
        from janome.tokenizer import Tokenizer

        janome_tokenizer = Tokenizer()

        def tokens(text: str) -> list[tuple[str, str]]:  # with the part of speech, as the themes read it
            return [(t.surface, t.part_of_speech.split(",")[0]) for t in janome_tokenizer.tokenize(text)]
    else:
        import fugashi

        tagger = fugashi.Tagger()

        def tokens(text: str) -> list[tuple[str, str]]:
            return [(w.surface, w.feature.pos1) for w in tagger(text)]
    tokens("初期化")
    load = time.perf_counter() - start
    rng = random.Random(0)
    comments = [rng.choice(v) + rng.choice(TAILS) for _ in range(n // len(PHRASES)) for v in PHRASES.values()]
    start = time.perf_counter()
    count = sum(len(tokens(c)) for c in comments)
    took = time.perf_counter() - start
    print(f"{which}: import + dictionary load {load:.2f} s; {len(comments):,} comments, {count:,} tokens in "
          f"{took:.2f} s = {count / took:,.0f} tokens/s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fugashi")
