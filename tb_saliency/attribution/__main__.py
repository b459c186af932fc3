"""`python -m tb_saliency.attribution --markdown`: the README's method table, from the method records."""

import sys

from tb_saliency.attribution.catalog import markdown_table


def main(argv) -> int:
    if argv != ["--markdown"]:
        print("usage: python -m tb_saliency.attribution --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
