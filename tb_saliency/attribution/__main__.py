"""`python -m tb_saliency.attribution --markdown`: the README's method table; `--options`: its options
table. Both come from the methods' records and their options."""

import sys

from tb_saliency.attribution import catalog, options

TABLES = {"--markdown": catalog.markdown_table, "--options": options.markdown_table}


def main(argv) -> int:
    if len(argv) != 1 or argv[0] not in TABLES:
        print("usage: python -m tb_saliency.attribution --markdown | --options", file=sys.stderr)
        return 2
    sys.stdout.write(TABLES[argv[0]]())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
