"""The tested code blocks of a document under docs/ that the README holds as one of its sections: the
blocks marked `<!-- snippet: name -->`, and the README's copy of the section, which must stay the
document's text so that what readers see is what the tests run."""

import re

from tests.support.scripts import ROOT

_BLOCK = re.compile(r"<!-- snippet: ([\w-]+) -->\n```(\w+)\n(.*?)```", re.S)


def blocks(document):
    """{name: (language, code)} of the marked blocks of `document` (a path)."""
    found = {}
    for name, language, code in _BLOCK.findall(document.read_text(encoding="utf-8")):
        assert name not in found, f"two blocks named {name!r} in {document.name}"
        found[name] = (language, code)
    return found


def assert_readme_holds(document):
    """README.md has a section headed as `document`'s first line, and it is `document`'s text."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = document.read_text(encoding="utf-8")
    heading = text.splitlines()[0]
    assert heading in readme.splitlines(), f"README.md has no {heading!r} section: paste docs/{document.name} into it"
    section = readme[readme.index(heading + "\n"):]
    following = re.search(r"^## ", section[len(heading):], re.M)
    section = section[:len(heading) + following.start()] if following else section
    assert section.strip() == text.strip(), f"README.md's section differs from docs/{document.name}: paste it again"
