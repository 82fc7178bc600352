"""Exact, vectorised E.164 for simply written phone numbers (Arrow compute, RE2).

Replays over a whole column what libphonenumber's ``parse(value, region)``,
``is_valid_number`` and ``format_number(E164)`` do for values made only of ASCII digits and
the separators `` -./()`` after an optional leading ``+`` (read from the ``phonenumbers``
source, ``phonenumberutil.py``): the international prefix (``+`` or the region's IDD
such as ``00`` or ``0[09]``, not stripped before a ``0``), the country calling code (the
codes are prefix-free), a country code written without ``+`` before a national number
(``_maybe_extract_country_code``'s pattern and length rule), the national prefix
(``_maybe_strip_national_prefix_carrier_code``, then ``parse``'s possible-length check), the
region of a shared code (``_region_code_for_number_from_list``) and validity (general
description, then any number type, each with its possible lengths).

Only numbers found VALID are answered; every other value is null, for the library: other
shapes (letters, extensions, ``tel:``, full-width digits), invalid numbers, non-geographic
codes, and the one step not replayed: a national prefix rule with a transform (AR, BR, JP,
the NANPA islands...) where it matches. So reject reasons stay the library's. Where the
library's choice depends on which alternative of a metadata regex matches (a national
prefix or IDD pattern), RE2's leftmost-first match is Python's backtracking one.
``tests/unit/contacts/test_phone_fast.py`` checks every answer against both backends.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from segport.contacts._literals import lit

_SEPARATORS = (" ", "-", ".", "(", ")", "/")  # what may stand between digits
_MAX_TEXT = 64  # longer values go to the library (it stops at 250)
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumberutil._MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN
_MIN_AFTER_IDD = 3  # "had an IDD, but after this was not long enough" below this
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_NO_STR = pa.scalar(None, pa.string())
_NO_INT = pa.scalar(None, pa.int32())


@functools.cache
def regions_of(cc: int) -> tuple[str, ...]:
    """The library's regions for a calling code, main one first ("001": non-geographic)."""
    # phonenumbers is imported on first use: ~0.1 s that runs with few phones do not need
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    return tuple(COUNTRY_CODE_TO_REGION_CODE.get(cc, ()))


@functools.cache
def _calling_codes() -> pa.Array:
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    return pa.array(sorted(str(cc) for cc in COUNTRY_CODE_TO_REGION_CODE))


@dataclass(frozen=True)
class Rules:
    """One region's metadata as anchored RE2 patterns and length tuples (metadata order)."""

    region: str
    cc: int
    usable: bool  # False: a pattern RE2 cannot compile, or no general description
    general: str = ""  # ^(?:national_number_pattern)$
    lengths: tuple[int, ...] = ()  # general possible lengths
    local: tuple[int, ...] = ()  # general local-only lengths
    types: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (pattern, lengths; () = any)
    prefix: str | None = None  # ^(?:national_prefix_for_parsing)
    prefix_literals: tuple[str, ...] | None = None  # when that is "a|b|..." literals
    transform: bool = False  # national_prefix_transform_rule present
    idd: str | None = None  # literal international prefix ("00", "011")
    idd_pattern: str | None = None  # ^(?:international_prefix) when not literal
    leading: str | None = None  # ^(?:leading_digits)

    @functools.cached_property
    def by_length(self) -> dict[int, str | None]:
        """Per NSN length, one alternation of the types allowed at that length."""
        out: dict[int, str | None] = {}
        for length in range(_MAX_NSN + 1):
            pats = [p for p, allowed in self.types if not allowed or length in allowed]
            out[length] = "^(?:" + "|".join(f"(?:{p})" for p in pats) + ")$" if pats else None
        return out


def _compiles(pattern: str) -> bool:
    try:
        pc.match_substring_regex(pa.array(["0"]), pattern)
    except pa.ArrowInvalid:
        return False
    return True


@functools.cache
def region_rules(region: str) -> Rules | None:
    """The rules for ``region``, built once; None where the library has no metadata."""
    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None or meta.country_code is None:
        return None
    general = meta.general_desc
    if general is None or not general.national_number_pattern or not general.possible_length:
        return Rules(region, meta.country_code, usable=False)
    types = []
    for name in _TYPES:
        if name == "mobile" and meta.same_mobile_and_fixed_line_pattern:
            continue  # _number_type_helper does not test it then
        desc = getattr(meta, name)
        if desc is not None and desc.national_number_pattern:
            types.append((desc.national_number_pattern, tuple(desc.possible_length)))
    npfp = meta.national_prefix_for_parsing or None
    literal = npfp is not None and re.fullmatch(r"\d+(?:\|\d+)*", npfp) is not None
    idd = meta.international_prefix or None
    rules = Rules(
        region=region,
        cc=meta.country_code,
        usable=True,
        general=f"^(?:{general.national_number_pattern})$",
        lengths=tuple(general.possible_length),
        local=tuple(general.possible_length_local_only),
        types=tuple(types),
        prefix=None if npfp is None else f"^(?:{npfp})",
        prefix_literals=tuple(npfp.split("|")) if npfp is not None and literal else None,
        transform=bool(meta.national_prefix_transform_rule),
        idd=idd if idd is not None and idd.isdigit() else None,
        idd_pattern=None if idd is None or idd.isdigit() else f"^(?:{idd})",
        leading=None if meta.leading_digits is None else f"^(?:{meta.leading_digits})",
    )
    patterns = [rules.general, *(p for p in rules.by_length.values() if p)]
    patterns += [p for p in (rules.prefix, rules.idd_pattern, rules.leading) if p]
    if not all(_compiles(p) for p in set(patterns)):
        return Rules(region, meta.country_code, usable=False)
    return rules


# --- column helpers: strings here are ASCII, so byte operations are character ones ---


def _slice(text: pa.Array, start: int, stop: int = _MAX_TEXT) -> pa.Array:
    return pc.binary_slice(text.view(pa.binary()), start, stop).view(pa.string())


def _length(text: pa.Array) -> pa.Array:
    return pc.binary_length(text)


def _length_in(lengths: pa.Array, allowed: tuple[int, ...]) -> pa.Array:
    if not allowed:
        return pc.is_valid(lengths)  # no list: any length
    return pc.is_in(lengths, value_set=pa.array(allowed, pa.int32()))


def _matches(text: pa.Array, pattern: str) -> pa.Array:
    return pc.match_substring_regex(text, pattern)


def _spread(mask: pa.Array, part: pa.Array, base: pa.Array) -> pa.Array:
    """``base`` with the rows where ``mask`` is true replaced, in order, by ``part``."""
    if mask.true_count == len(mask):
        return part  # one group held every row (the usual case): nothing to spread
    return pc.replace_with_mask(base, mask, part)


@functools.cache
def _int32(value: int) -> pa.Scalar:
    return pa.scalar(value, pa.int32())


def _all(value: pa.Scalar, n: int) -> pa.Array:
    return pa.repeat(value, n)


def _too_long(lengths: pa.Array, rules: Rules) -> pa.Array:
    """``_test_number_length(...) == TOO_LONG`` for the general description."""
    longer = pc.and_(
        pc.greater(lengths, lit(rules.lengths[0])), pc.greater(lengths, lit(rules.lengths[-1]))
    )
    if not rules.local:
        return longer
    return pc.and_(longer, pc.invert(_length_in(lengths, rules.local)))


def _keeps_stripped(lengths: pa.Array, rules: Rules) -> pa.Array:
    """``parse`` keeps the stripped number unless its length test is TOO_SHORT,
    IS_POSSIBLE_LOCAL_ONLY or INVALID_LENGTH (tested in the library's order)."""
    first, last = rules.lengths[0], rules.lengths[-1]
    later = _length_in(lengths, rules.lengths[1:] or (-1,))
    possible = pc.or_(
        pc.equal(lengths, lit(first)),
        pc.and_(pc.greater(lengths, lit(first)), pc.or_(pc.greater(lengths, lit(last)), later)),
    )
    if rules.local:
        possible = pc.and_(possible, pc.invert(_length_in(lengths, rules.local)))
    return possible


Stripped = tuple[pa.Array, pa.Array | None, pa.Array | None]


def _strip_prefix(number: pa.Array, rules: Rules) -> Stripped:
    """``_maybe_strip_national_prefix_carrier_code`` -> (number after it, null where the
    library must decide, as a transform rule's outcome depends on capture groups; general
    pattern match of that and of ``number``, or None where not computed)."""
    if rules.prefix is None:
        return number, None, None
    if rules.prefix_literals is not None:
        # Alternation of literals: Python's re takes the first alternative that matches.
        stripped, matched = number, _all(lit(False), len(number))
        for literal in reversed(rules.prefix_literals):
            hit = pc.starts_with(number, literal)
            stripped = pc.if_else(hit, _slice(number, len(literal)), stripped)
            matched = pc.or_(matched, hit)
    else:
        matched = _matches(number, rules.prefix)
        stripped = pc.replace_substring_regex(number, rules.prefix, "", max_replacements=1)
    matched = pc.and_(matched, pc.greater(_length(number), lit(0)))
    if rules.transform:
        return pc.if_else(matched, _NO_STR, number), None, None
    viable = _matches(number, rules.general)
    still_viable = _matches(stripped, rules.general)
    use = pc.and_(matched, pc.invert(pc.and_(viable, pc.invert(still_viable))))
    return pc.if_else(use, stripped, number), pc.if_else(use, still_viable, viable), viable


def _nsn(number: pa.Array, rules: Rules) -> tuple[pa.Array, pa.Array | None]:
    """``parse``'s national prefix step and NSN length limits -> (NSN or null, its general
    pattern match or None)."""
    stripped, stripped_general, general = _strip_prefix(number, rules)
    keep = _keeps_stripped(_length(stripped), rules)
    nsn = pc.if_else(keep, stripped, number)
    if general is not None:
        general = pc.if_else(keep, stripped_general, general)
    ok = pc.and_(
        pc.and_(pc.is_valid(stripped), pc.greater_equal(_length(number), lit(_MIN_NSN))),
        pc.less_equal(_length(nsn), lit(_MAX_NSN)),
    )
    return pc.if_else(ok, nsn, _NO_STR), general


def _valid(nsn: pa.Array, rules: Rules, general: pa.Array | None = None) -> pa.Array:
    """``_number_type_helper(nsn, metadata) != UNKNOWN``; ``general`` may hold the
    general pattern match already computed."""
    lengths = _length(nsn)
    if general is None:
        general = _matches(nsn, rules.general)
    general = pc.and_(_length_in(lengths, rules.lengths), general)
    candidates = nsn.filter(general)
    if len(candidates) == 0:
        return general
    sizes = _length(candidates)
    typed = _all(lit(False), len(candidates))
    for size in pc.unique(sizes).to_pylist():
        pattern = rules.by_length.get(size)
        if pattern is None:
            continue
        rows = pc.equal(sizes, lit(size))
        typed = _spread(rows, _matches(candidates.filter(rows), pattern), typed)
    return _spread(general, typed, general)


def _answer(
    cc: int, nsn: pa.Array, general: pa.Array | None, regions: tuple[str, ...] | None = None
) -> pa.Array:
    """NSNs of one country code -> E.164 where ``is_valid_number`` holds, else null.

    ``regions`` are the code's regions still to try, in order (all by default);
    ``general``, if given, is the general pattern match for the first of them."""
    if regions is None:
        regions = regions_of(cc)
    for index, region in enumerate(regions):
        rules = region_rules(region)
        if rules is None:
            continue  # the library skips regions without metadata too
        if not rules.usable:
            break  # any rest goes to the library
        # region_code_for_number takes a code's only region without looking at it
        if rules.leading is not None and len(regions_of(cc)) > 1:
            decided = _matches(nsn, rules.leading)
            valid = _spread(decided, _valid(nsn.filter(decided), rules), decided)
        else:
            valid = decided = _valid(nsn, rules, general if index == 0 else None)
        answered = pc.binary_replace_slice(nsn.view(pa.binary()), 0, 0, f"+{cc}")
        e164 = pc.if_else(valid, answered.view(pa.string()), _NO_STR)
        rest = pc.invert(decided)
        if rest.true_count and index + 1 < len(regions):  # the others try the rest
            later = _answer(cc, nsn.filter(rest), None, regions[index + 1 :])
            e164 = _spread(rest, later, e164)
        return e164
    return _all(_NO_STR, len(nsn))


def _country_code(rest: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Digits after "+" or the IDD -> (calling code or null, national number)."""
    cc, national = _all(_NO_INT, len(rest)), rest
    for size in (3, 2, 1):  # prefix-free, so at most one size hits
        head = _slice(rest, 0, size)
        hit = pc.and_(
            pc.is_in(head, value_set=_calling_codes()), pc.equal(_length(head), lit(size))
        )
        cc = pc.if_else(hit, pc.cast(pc.if_else(hit, head, _NO_STR), pa.int32()), cc)
        national = pc.if_else(hit, _slice(rest, size), national)
    short = pc.less(_length(rest), lit(_MIN_AFTER_IDD))
    return pc.if_else(short, _NO_INT, cc), national


def _default_country_code(digits: pa.Array, rules: Rules) -> tuple[pa.Array, pa.Array]:
    """``_maybe_extract_country_code`` without "+"/IDD: a number starting with the region's
    own code is read as code + number when only that reading fits the general pattern, or
    the whole is too long. -> (taken as code + number, else null where the library must
    decide; national number after the code)."""
    code = str(rules.cc)
    potential, _, _ = _strip_prefix(_slice(digits, len(code)), rules)
    better = pc.and_(
        pc.invert(_matches(digits, rules.general)),
        pc.fill_null(_matches(potential, rules.general), False),
    )
    taken = pc.or_(better, _too_long(_length(digits), rules))
    return pc.if_else(pc.is_valid(potential), taken, pa.scalar(None, pa.bool_())), potential


def _idd(digits: pa.Array, rules: Rules) -> tuple[pa.Array, pa.Array] | None:
    """``_parse_prefix_as_idd``: (starts with the region's IDD, digits after it); the
    library strips it unless a 0 follows. None where the region has no IDD."""
    if rules.idd is not None:
        return pc.starts_with(digits, rules.idd), _slice(digits, len(rules.idd))
    if rules.idd_pattern is not None:
        starts = pc.fill_null(_matches(digits, rules.idd_pattern), False)
        after = pc.replace_substring_regex(digits, rules.idd_pattern, "", max_replacements=1)
        return starts, after
    return None


def _involves(cc: int, exclude: frozenset[str]) -> bool:
    return any(r in exclude for r in regions_of(cc))


def fast_e164(
    values: pa.Array,
    region: str,
    *,
    exclude: frozenset[str] = frozenset(),
    min_group: int = 8,
) -> pa.StringArray:
    """E.164 for the values the fast path finds valid, null for the rest (aligned).

    ``values`` are trimmed strings (nulls allowed); ``region`` the default region, as for
    ``parse``. Numbers that involve a region in ``exclude`` are left to the library, and
    so are country codes other than the region's with fewer than ``min_group`` rows: below
    that the per-code regex passes cost more than the library would.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    rules = region_rules(region)
    if rules is None or not rules.usable or n == 0 or _involves(rules.cc, exclude):
        return _all(_NO_STR, n)  # national numbers need the region and its code's regions
    plus = pc.fill_null(pc.starts_with(values, "+"), False)
    digits = pc.if_else(plus, pc.utf8_slice_codeunits(values, 1), values)  # maybe not ASCII
    for sep in _SEPARATORS:
        digits = pc.replace_substring(digits, sep, "")
    shaped = pc.and_(
        pc.ascii_is_decimal(digits),
        pc.and_(
            pc.less_equal(_length(values), lit(_MAX_TEXT)),
            pc.greater_equal(_length(digits), lit(3)),
        ),
    )
    shaped = pc.fill_null(shaped, False)
    digits = pc.if_else(shaped, digits, _NO_STR)  # ASCII from here on
    national = pc.and_(shaped, pc.invert(plus))
    rest, international = digits, pc.and_(shaped, plus)
    idd = _idd(digits, rules)
    if idd is not None:
        starts, after = idd
        starts = pc.and_(national, starts)
        good = pc.and_(starts, pc.greater(_length(after), lit(0)))
        good = pc.and_(good, pc.invert(pc.starts_with(after, "0")))  # left over: library
        rest = pc.if_else(good, after, digits)
        international = pc.or_(international, good)
        national = pc.and_(national, pc.invert(starts))
    cc, number = _country_code(rest)
    cc = pc.if_else(international, cc, _NO_INT)
    number = pc.if_else(international, number, _NO_STR)
    # national numbers that start with the region's own calling code
    own = pc.and_(national, pc.starts_with(digits, str(rules.cc)))
    if pc.any(own).as_py():
        taken, potential = _default_country_code(digits.filter(own), rules)
        taken = _spread(own, taken, _all(lit(False), n))
        national = pc.and_(national, pc.invert(pc.fill_null(taken, True)))
        taken = pc.fill_null(taken, False)
        cc = pc.if_else(taken, _int32(rules.cc), cc)
        number = pc.if_else(taken, _spread(own, potential, _all(_NO_STR, n)), number)
    # NSN per row: coded rows with their code's main region's rules (parse switches
    # metadata to it), national rows with the region's, which are the same rules unless
    # the region shares its code and is not the main one (CA, GG...)
    separate = region != regions_of(rules.cc)[0] and pc.any(national).as_py()
    if not separate:
        cc = pc.if_else(national, _int32(rules.cc), cc)
        number = pc.if_else(national, digits, number)
    nsn, general = _all(_NO_STR, n), _all(pa.scalar(None, pa.bool_()), n)
    counts = pc.value_counts(cc.filter(pc.is_valid(cc)))
    groups = [(c.as_py(), k.as_py()) for c, k in zip(counts.field(0), counts.field(1), strict=True)]
    for code, count in groups:
        regions = regions_of(code)
        main = region_rules(regions[0]) if regions else None
        if main is None or not main.usable or _involves(code, exclude):
            continue  # non-geographic, excluded, or patterns RE2 cannot run
        if count < min_group and code != rules.cc:
            continue
        rows = pc.fill_null(pc.equal(cc, _int32(code)), False)
        part, part_general = _nsn(number.filter(rows), main)
        nsn = _spread(rows, part, nsn)
        if part_general is not None:
            general = _spread(rows, part_general, general)
    if separate:
        part, _ = _nsn(digits.filter(national), rules)
        nsn = _spread(national, part, nsn)
        cc = pc.if_else(national, _int32(rules.cc), cc)
    # validity per calling code
    e164 = _all(_NO_STR, n)
    cc = pc.if_else(pc.is_valid(nsn), cc, _NO_INT)
    for code in pc.unique(cc.filter(pc.is_valid(cc))).to_pylist():
        rows = pc.fill_null(pc.equal(cc, _int32(code)), False)
        known = general.filter(rows)
        answer = _answer(code, nsn.filter(rows), known if known.null_count == 0 else None)
        e164 = _spread(rows, answer, e164)
    return e164
