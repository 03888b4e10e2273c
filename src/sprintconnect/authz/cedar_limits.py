"""A cheap scan that bounds the shape of policy text before any native parser reads it.

Cedar's parser (Rust, inside ``cedarpy``) recurses once per level of nesting, about 12 KiB of
stack per parenthesis. Measured with cedarpy 4.12.2 on x86-64 Linux, parsing
``permit(...) when { ((((true)))) };`` with N parentheses crashes the process (SIGSEGV) at:

- N = 662 on the main thread or a default thread (8 MiB stack, ``ulimit -s 8192``);
- N = 5,300 on a thread with a 64 MiB stack, N = 21,200 with 256 MiB.

``[``, ``{`` and record braces cost the same; nested ``if ... then ... else`` about 1.9 KiB per
level (crash at 4,400 on 8 MiB); long operator chains (``a.b.c...``, ``1 + 1 + ...``) about
0.5 KiB per link, when the text is turned into JSON (crash at 16,400 links on 8 MiB, which
needs 32 KiB of text). Runs of ``!`` or ``-`` Cedar refuses by itself beyond four.

The limits below sit one to two orders of magnitude under those numbers, and far above any
policy a person writes; the parse itself also runs on a large-stack thread (``kit.native``),
so a shape these limits miss still cannot take the server down.
"""

from __future__ import annotations

MAX_POLICY_BYTES = 64 * 1024
MAX_BRACKET_DEPTH = 64
MAX_IF_DEPTH = 32
MAX_UNARY_RUN = 8

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
_UNARY = frozenset("!-")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD = _WORD_START | frozenset("0123456789")
_SPACE = frozenset(" \t\r\n\f\v")


def shape_problems(text: str) -> list[str]:
    """The limits ``text`` exceeds (empty when none), naming each; never parses recursively.

    String literals (with their escapes) and ``//`` comments are skipped, so a ``(`` inside
    either is not nesting. An ``if`` stays open until the bracket it sits in closes or a ``,``
    or ``;`` ends its expression: in Cedar an ``else`` branch runs that far, so ``if``s one
    after another at one level are nested (``else if`` chains count one level each).
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_POLICY_BYTES:
        return [f"policy text exceeds {MAX_POLICY_BYTES} bytes"]
    problems: list[str] = []
    # One entry per open bracket: the ``if``s opened at that level (level 0 is the top).
    ifs_at_level = [0]
    if_depth = 0
    unary_run = 0
    index, end = 0, len(text)
    while index < end:
        char = text[index]
        if char in _SPACE:
            index += 1
            continue
        if char == "/" and text.startswith("//", index):
            newline = text.find("\n", index)
            index = end if newline < 0 else newline + 1
            continue
        if char in _UNARY:
            unary_run += 1
            if unary_run > MAX_UNARY_RUN:
                problems.append(f"more than {MAX_UNARY_RUN} unary operators (! or -) in a row")
                break
            index += 1
            continue
        unary_run = 0
        if char == '"':
            index = _string_end(text, index + 1)
        elif char in _OPENERS:
            ifs_at_level.append(0)
            if len(ifs_at_level) - 1 > MAX_BRACKET_DEPTH:
                problems.append(f"brackets ( [ {{ nested deeper than {MAX_BRACKET_DEPTH}")
                break
            index += 1
        elif char in _CLOSERS:
            if len(ifs_at_level) > 1:
                if_depth -= ifs_at_level.pop()
            index += 1
        elif char in ",;":
            if_depth -= ifs_at_level[-1]
            ifs_at_level[-1] = 0
            index += 1
        elif char in _WORD_START:
            start = index
            while index < end and text[index] in _WORD:
                index += 1
            if text[start:index] == "if":
                ifs_at_level[-1] += 1
                if_depth += 1
                if if_depth > MAX_IF_DEPTH:
                    problems.append(f"if-then-else nested deeper than {MAX_IF_DEPTH}")
                    break
        else:
            index += 1
    return problems


def _string_end(text: str, index: int) -> int:
    """The index just past the string literal whose body starts at ``index``.

    An unterminated string runs to the end of the text; the parser reports it.
    """
    end = len(text)
    while index < end:
        quote = text.find('"', index)
        if quote < 0:
            return end
        backslashes = 0
        back = quote - 1
        while back >= index and text[back] == "\\":
            backslashes += 1
            back -= 1
        if backslashes % 2 == 0:
            return quote + 1
        index = quote + 1
    return end
