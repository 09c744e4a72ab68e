"""Recording rules, company domains, keyword exclusions and input cleaning: pure checks, tested without servers."""

from __future__ import annotations

import itertools
import unicodedata

import pytest

from slackbot.meetings.rules import (
    ACCEPTED_WORD,
    FREEMAIL_DOMAINS,
    MAX_DOMAIN,
    MAX_KEYWORD,
    RULE_WORDS,
    Attendance,
    InputProblem,
    Miss,
    Rule,
    RuleKind,
    clean_domain,
    clean_keyword,
    company_domains,
    domain_of,
    excluded_keyword,
    is_calendar_address,
    is_external,
    rule_miss,
)

COMPANY = frozenset({"acme.com", "acme.co.uk"})

# The attendee domain sets the rules are checked against (everyone but the member, rooms left out).
DOMAIN_SETS: dict[str, tuple[str, ...]] = {
    "nobody": (),
    "only-company": ("acme.com", "acme.co.uk"),
    "one-outside": ("acme.com", "partner.io"),
    "only-freemail": ("gmail.com", "outlook.com"),
}
# Which of those have somebody from outside the company (free-mail is never the company).
OUTSIDE = {"nobody": False, "only-company": False, "one-outside": True, "only-freemail": True}

RESPONSES = ["accepted", "tentative", "needsAction", None]


# ---------------------------------------------------------------------------------------------------------------------
# rule_miss: every kind x organiser x attendees x accepted_only x the member's answer
# ---------------------------------------------------------------------------------------------------------------------


def _expected_miss(kind: RuleKind, organiser: bool, outside: bool, accepted_only: bool, response: str | None):
    """An independent oracle: what each rule promises in the issue's words."""
    if kind is RuleKind.ORGANISED and not organiser:
        return Miss.NOT_ORGANISER
    if kind is RuleKind.EXTERNAL and not outside:
        return Miss.ALL_INSIDE
    if kind is RuleKind.INTERNAL and outside:
        return Miss.SOMEONE_OUTSIDE
    if accepted_only and response != "accepted":
        return Miss.NOT_ACCEPTED  # tentative or no answer is left out; only "accepted" counts
    return None


RULE_TABLE = list(itertools.product(list(RuleKind), [True, False], list(DOMAIN_SETS), [False, True], RESPONSES))


def _rule_id(row: tuple) -> str:
    kind, organiser, domains, accepted_only, response = row
    return "-".join(
        [
            kind.value,
            "organiser" if organiser else "guest",
            domains,
            "accepted-only" if accepted_only else "any",
            str(response),
        ]
    )


@pytest.mark.parametrize("row", RULE_TABLE, ids=[_rule_id(r) for r in RULE_TABLE])
def test_rule_miss_table(row: tuple) -> None:
    kind, organiser, domains, accepted_only, response = row
    who = Attendance(organizer_is_self=organiser, attendee_domains=DOMAIN_SETS[domains], self_response=response)
    expected = _expected_miss(kind, organiser, OUTSIDE[domains], accepted_only, response)
    assert rule_miss(Rule(kind, accepted_only), who, COMPANY) is expected


def test_rule_miss_table_is_complete() -> None:
    assert len(RULE_TABLE) == len(RuleKind) * 2 * len(DOMAIN_SETS) * 2 * len(RESPONSES)
    # Every miss is reachable, and so is "recorded".
    found = {
        _expected_miss(kind, organiser, OUTSIDE[domains], accepted_only, response)
        for kind, organiser, domains, accepted_only, response in RULE_TABLE
    }
    assert found == {*Miss, None}


@pytest.mark.parametrize(
    ("kind", "domains", "miss"),
    [
        (RuleKind.ALL, ("partner.io",), None),
        (RuleKind.EXTERNAL, ("gmail.com",), None),  # one free-mail guest makes a meeting external
        (RuleKind.EXTERNAL, ("acme.com",), Miss.ALL_INSIDE),
        (RuleKind.INTERNAL, ("acme.com", "hotmail.com"), Miss.SOMEONE_OUTSIDE),
        (RuleKind.INTERNAL, (), None),  # only the member: nobody from outside
        (RuleKind.EXTERNAL, (), Miss.ALL_INSIDE),
    ],
)
def test_rule_miss_examples(kind: RuleKind, domains: tuple[str, ...], miss: Miss | None) -> None:
    assert rule_miss(Rule(kind), Attendance(False, domains, "accepted"), COMPANY) is miss


def test_the_kind_is_checked_before_the_answer() -> None:
    """A meeting the rule leaves out for two reasons says the rule's own reason first."""
    who = Attendance(organizer_is_self=False, attendee_domains=("acme.com",), self_response="tentative")
    assert rule_miss(Rule(RuleKind.ORGANISED, True), who, COMPANY) is Miss.NOT_ORGANISER
    assert rule_miss(Rule(RuleKind.EXTERNAL, True), who, COMPANY) is Miss.ALL_INSIDE
    assert rule_miss(Rule(RuleKind.INTERNAL, True), who, COMPANY) is Miss.NOT_ACCEPTED


def test_declined_is_not_accepted() -> None:
    who = Attendance(True, (), "declined")
    assert rule_miss(Rule(RuleKind.ALL, True), who, COMPANY) is Miss.NOT_ACCEPTED


def test_only_ask_leaves_the_meeting_to_the_member() -> None:
    assert {kind for kind in RuleKind if not Rule(kind).decides} == {RuleKind.ASK}
    assert Rule(RuleKind.ASK, accepted_only=True).decides is False


# ---------------------------------------------------------------------------------------------------------------------
# is_external, company_domains, domain_of
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domains", "external"),
    [
        ((), False),
        (("acme.com",), False),
        (("acme.com", "acme.co.uk", "acme.com"), False),
        (("acme.com", "partner.io"), True),
        (("gmail.com",), True),
        (("sub.acme.com",), True),  # a subdomain is another domain unless an admin adds it
        (lambda: iter(["acme.com", "partner.io"]), True),  # any iterable (a fresh one each run)
    ],
)
def test_is_external(domains, external: bool) -> None:
    assert is_external(domains() if callable(domains) else domains, COMPANY) is external


def test_is_external_with_no_company_domains_counts_everyone_as_outside() -> None:
    assert is_external(("acme.com",), frozenset()) is True
    assert is_external((), frozenset()) is False


def test_company_is_the_members_own_domain() -> None:
    assert company_domains(["ada@acme.com"], []) == frozenset({"acme.com"})
    assert company_domains(["ada@acme.com", "ada@acme.co.uk"], []) == COMPANY


@pytest.mark.parametrize("email", sorted(f"ada@{d}" for d in FREEMAIL_DOMAINS))
def test_a_freemail_own_domain_never_makes_colleagues(email: str) -> None:
    company = company_domains([email], [])
    assert company == frozenset()
    # Another person on the same free-mail domain is someone from outside.
    assert is_external((domain_of(email),), company) is True


def test_freemail_case_and_trailing_dot_still_freemail() -> None:
    assert company_domains(["Ada@GMail.com.", "ADA@OUTLOOK.COM"], []) == frozenset()


def test_admin_domains_are_added_to_the_members_own() -> None:
    company = company_domains(["ada@acme.com"], ["partner.io", "Acme-Labs.DE"])
    assert company == frozenset({"acme.com", "partner.io", "acme-labs.de"})
    assert is_external(("partner.io", "acme-labs.de"), company) is False
    # Admin domains apply even when the member's own address is free-mail.
    assert company_domains(["ada@gmail.com"], ["acme.com"]) == frozenset({"acme.com"})


def test_company_domains_are_case_insensitive() -> None:
    company = company_domains(["Ada@ACME.Com"], ["ACME.CO.UK"])
    assert company == COMPANY
    assert is_external((domain_of("grace@Acme.COM"), domain_of("bob@ACME.co.uk")), company) is False


def test_company_domains_ignore_unusable_addresses() -> None:
    assert company_domains([None, "", "no-at-sign", "ada@"], []) == frozenset()
    assert company_domains(iter([None, "ada@acme.com"]), iter(())) == frozenset({"acme.com"})


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("ada@acme.com", "acme.com"),
        ("Ada.Lovelace@Acme.COM", "acme.com"),
        ("ada@acme.com.", "acme.com"),
        ("ada@ acme.com ", "acme.com"),
        ('"odd@local"@acme.com', "acme.com"),  # the last @ separates the domain
        ("ada@", None),
        ("ada@.", None),
        ("acme.com", None),
        ("", None),
        (None, None),
    ],
)
def test_domain_of(email: str | None, domain: str | None) -> None:
    assert domain_of(email) == domain


# ---------------------------------------------------------------------------------------------------------------------
# excluded_keyword: case-insensitive, whole words, phrases, regex metacharacters taken literally
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "keywords", "found"),
    [
        ("Interview: Ada", ["Interview"], "Interview"),
        ("final interview", ["Interview"], "Interview"),
        ("INTERVIEW", ["interview"], "interview"),
        ("Pre-interview chat", ["Interview"], "Interview"),  # a hyphen separates words
        ("Interviewer sync", ["Interview"], None),
        ("Interviews", ["Interview"], None),
        ("Reinterview", ["Interview"], None),
        ("1:1 with Ada", ["1:1"], "1:1"),
        ("Ada / Bob 1:1", ["1:1"], "1:1"),
        ("Ada <> Bob (1:1)", ["1:1"], "1:1"),
        ("11:1 review", ["1:1"], None),
        ("1:15 standup", ["1:1"], None),
        ("Weekly design review", ["design review"], "design review"),
        ("Design Review", ["design review"], "design review"),
        ("design reviews", ["design review"], None),
        ("design and review", ["design review"], None),
        ("C++ guild", ["C++"], "C++"),
        ("Learning c++ together", ["C++"], "C++"),
        ("CCC sync", ["C++"], None),  # `+` is not a quantifier
        ("Cpp guild", ["C++"], None),
        ("(draft) roadmap", ["(draft)"], "(draft)"),
        ("Plan(draft)v2", ["(draft)"], "(draft)"),  # no boundary needed where the keyword ends in a non-word
        ("Interview: Ada", ["   ", "Interview"], "Interview"),  # a blank keyword is passed over, not the end
        ("Roadmap (Draft)", ["(draft)"], "(draft)"),
        ("draft roadmap", ["(draft)"], None),  # the parentheses are part of the keyword, not a group
        ("Release v1.0 review", ["v1.0"], "v1.0"),
        ("Release v1x0 review", ["v1.0"], None),  # `.` is not a wildcard
        ("Budget [Q3]", ["[Q3]"], "[Q3]"),
        ("Budget Q3", ["[Q3]"], None),
        ("Costs $$$", ["$$$"], "$$$"),
        ("a|b", ["a|b"], "a|b"),
        ("a", ["a|b"], None),
        ("ÜBERPRÜFUNG", ["überprüfung"], "überprüfung"),
        ("Réunion", ["union"], None),  # é is a letter: "union" is not a whole word here
        ("Entretien d'embauche", ["entretien"], "entretien"),
        ("Standup", [], None),
        ("", ["Interview"], None),
    ],
)
def test_excluded_keyword(title: str, keywords: list[str], found: str | None) -> None:
    assert excluded_keyword(title, keywords) == found


@pytest.mark.parametrize(
    ("domain", "calendar"),
    [
        ("calendar.google.com", True),
        ("group.calendar.google.com", True),
        ("resource.calendar.google.com", True),
        ("google.com", False),
        ("mycalendar.google.com", False),
        ("acme.com", False),
    ],
)
def test_is_calendar_address(domain: str, calendar: bool) -> None:
    assert is_calendar_address(domain) is calendar


def test_excluded_keyword_returns_the_first_matching_keyword_in_order() -> None:
    assert excluded_keyword("Interview 1:1", ["Offsite", "1:1", "Interview"]) == "1:1"
    assert excluded_keyword("Interview 1:1", ["Interview", "1:1"]) == "Interview"
    assert excluded_keyword("Interview", iter(["Offsite", "Interview"])) == "Interview"


def test_excluded_keyword_handles_hostile_and_long_input() -> None:
    assert excluded_keyword("<!channel> all hands", ["<!channel>"]) == "<!channel>"
    assert excluded_keyword("x" * 10_000 + " Interview", ["Interview"]) == "Interview"
    assert excluded_keyword("a" * 10_000, ["a" * 100]) is None  # no whole word, and no runaway backtracking


# ---------------------------------------------------------------------------------------------------------------------
# clean_keyword
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Interview", "Interview"),
        ("  Interview  ", "Interview"),
        ("final   interview", "final interview"),
        ("final\tinterview\n", "final interview"),
        ("1:1", "1:1"),
        ("C++", "C++"),
        ("(draft)", "(draft)"),
        ("R&D", "R&D"),
        ("Café crème", "Café crème"),
        ("Xmas party", "Xmas party"),  # only `<` and `>` are markup
        ("x" * MAX_KEYWORD, "x" * MAX_KEYWORD),
        ("  " + "x" * MAX_KEYWORD + "  ", "x" * MAX_KEYWORD),  # the limit counts the stored form
    ],
)
def test_clean_keyword_accepts(raw: str, stored: str) -> None:
    assert clean_keyword(raw) == (stored, None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", InputProblem.EMPTY),
        ("   ", InputProblem.EMPTY),
        ("\n\t ", InputProblem.EMPTY),
        ("x" * (MAX_KEYWORD + 1), InputProblem.TOO_LONG),
        ("x" * 5000, InputProblem.TOO_LONG),
        ("word " * 1000, InputProblem.TOO_LONG),
        ("<!channel>", InputProblem.MARKUP),
        ("<https://evil|click>", InputProblem.MARKUP),
        ("a > b", InputProblem.MARKUP),
        ("a < b", InputProblem.MARKUP),
        ("bad\x00keyword", InputProblem.MARKUP),
        ("bell\x07", InputProblem.MARKUP),
        ("\x1b[31mred", InputProblem.MARKUP),
        ("back\x08space", InputProblem.MARKUP),
    ],
)
def test_clean_keyword_refuses(raw: str, problem: InputProblem) -> None:
    assert clean_keyword(raw) == (None, problem)


@pytest.mark.parametrize("char", ["\x7f", "\x9b", "\x90"], ids=["DEL", "C1-CSI", "C1-DCS"])
def test_clean_keyword_refuses_every_control_character(char: str) -> None:
    """DEL and the C1 controls are control characters too (Unicode category Cc) and are not whitespace."""
    assert unicodedata.category(char) == "Cc"
    assert char.strip() == char  # not folded away as whitespace
    assert clean_keyword(f"bad{char}keyword") == (None, InputProblem.MARKUP)


# ---------------------------------------------------------------------------------------------------------------------
# clean_domain
# ---------------------------------------------------------------------------------------------------------------------

LONGEST_DOMAIN = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("acme.com", "acme.com"),
        ("Acme.COM", "acme.com"),
        ("@acme.com", "acme.com"),
        ("acme.com.", "acme.com"),
        ("  @Acme.Co.UK.  ", "acme.co.uk"),
        ("eng.acme-labs.io", "eng.acme-labs.io"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),  # an internationalised domain, as punycode
        ("a.io", "a.io"),
        ("123.example", "123.example"),
        (LONGEST_DOMAIN, LONGEST_DOMAIN),
    ],
)
def test_clean_domain_accepts(raw: str, stored: str) -> None:
    assert clean_domain(raw) == (stored, None)


def test_longest_domain_is_at_the_limit() -> None:
    assert len(LONGEST_DOMAIN) == MAX_DOMAIN


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", InputProblem.EMPTY),
        ("   ", InputProblem.EMPTY),
        ("@", InputProblem.EMPTY),
        (".", InputProblem.EMPTY),
        ("@.", InputProblem.EMPTY),
        ("a" * 250 + ".com", InputProblem.TOO_LONG),
        ("x" * 5000, InputProblem.TOO_LONG),
        ("acme", InputProblem.NOT_A_DOMAIN),
        ("localhost", InputProblem.NOT_A_DOMAIN),
        ("a" * 64 + ".com", InputProblem.NOT_A_DOMAIN),  # a label is at most 63 characters
        ("acme_corp.com", InputProblem.NOT_A_DOMAIN),
        ("acme corp.com", InputProblem.NOT_A_DOMAIN),
        ("-acme.com", InputProblem.NOT_A_DOMAIN),
        ("acme-.com", InputProblem.NOT_A_DOMAIN),
        ("acme..com", InputProblem.NOT_A_DOMAIN),
        ("acme.c0m", InputProblem.NOT_A_DOMAIN),
        ("acme.c", InputProblem.NOT_A_DOMAIN),
        ("1.2.3.4", InputProblem.NOT_A_DOMAIN),
        ("ada@acme.com", InputProblem.NOT_A_DOMAIN),
        ("@@acme.com", InputProblem.NOT_A_DOMAIN),
        ("https://acme.com", InputProblem.NOT_A_DOMAIN),
        ("acme.com/path", InputProblem.NOT_A_DOMAIN),
        ("<acme.com>", InputProblem.NOT_A_DOMAIN),
        ("bücher.de", InputProblem.NOT_A_DOMAIN),
        ("acme.com\nevil.com", InputProblem.NOT_A_DOMAIN),
        ("acme.com\x00", InputProblem.NOT_A_DOMAIN),
        ("gmail.com", InputProblem.FREEMAIL),
        ("outlook.com", InputProblem.FREEMAIL),
        ("@GMail.com.", InputProblem.FREEMAIL),
        ("Hotmail.co.uk", InputProblem.FREEMAIL),
    ],
)
def test_clean_domain_refuses(raw: str, problem: InputProblem) -> None:
    assert clean_domain(raw) == (None, problem)


@pytest.mark.parametrize("domain", sorted(FREEMAIL_DOMAINS))
def test_every_freemail_domain_is_refused(domain: str) -> None:
    assert clean_domain(domain) == (None, InputProblem.FREEMAIL)


# ---------------------------------------------------------------------------------------------------------------------
# Rule.stored, RULE_WORDS
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(RuleKind))
@pytest.mark.parametrize("accepted_only", [False, True])
def test_rule_stored_round_trips(kind: RuleKind, accepted_only: bool) -> None:
    rule = Rule.stored(kind.value, accepted_only)
    assert rule == Rule(kind, accepted_only)
    assert rule is not None and rule.kind is kind


@pytest.mark.parametrize("value", [None, "", "bogus", "ASK", "Organised", "organized", "mine", " all"])
def test_rule_stored_unknown_is_none(value: str | None) -> None:
    assert Rule.stored(value, True) is None
    assert Rule.stored(value, False) is None


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("ask", RuleKind.ASK),
        ("all", RuleKind.ALL),
        ("organised", RuleKind.ORGANISED),
        ("organized", RuleKind.ORGANISED),
        ("mine", RuleKind.ORGANISED),
        ("external", RuleKind.EXTERNAL),
        ("internal", RuleKind.INTERNAL),
    ],
)
def test_rule_words(word: str, kind: RuleKind) -> None:
    assert RULE_WORDS[word] is kind


def test_rule_words_cover_every_kind_and_nothing_else() -> None:
    assert set(RULE_WORDS.values()) == set(RuleKind)
    assert set(RULE_WORDS) == {"ask", "all", "organised", "organized", "mine", "external", "internal"}
    for kind in RuleKind:
        assert RULE_WORDS[kind.value] is kind  # every stored value is also a word members may type
    assert ACCEPTED_WORD == "accepted"
    assert ACCEPTED_WORD not in RULE_WORDS


@pytest.mark.parametrize(
    ("title", "keyword", "found"),
    [
        ("final  interview", "final interview", True),  # spacing in the title does not matter
        ("Final\tInterview round", "final   interview", True),  # nor in the keyword
        ("Plan(draft)", "(draft)", True),  # a keyword starting with a symbol needs no boundary before it
        ("Q3 review!", "review!", True),
        ("Previewer", "review", False),
    ],
)
def test_keyword_spacing_and_symbols(title: str, keyword: str, found: bool) -> None:
    assert (excluded_keyword(title, [keyword]) == keyword) is found
