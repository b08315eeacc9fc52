"""Field rules and normalisation, as tables (pure functions)."""

import pytest

from gated.validation import InvalidSubmission, clean_fields, normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  alice@Example.COM  ", "alice@example.com"),
        ("Bob.Smith@Company.CN", "Bob.Smith@company.cn"),
        ("user+tag@sub.domain.org", "user+tag@sub.domain.org"),
        ("王芳@例子.公司", "王芳@例子.公司"),
    ],
)
def test_emails_are_trimmed_and_domains_lower_cased(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "plainaddress", "a@b", "a@@b.com", "a b@c.com", "@example.com", "a@example..com"]
)
def test_bad_emails_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_email(raw)


def test_an_address_longer_than_254_characters_is_refused():
    with pytest.raises(ValueError):
        normalise_email("a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 139 1234 5678", "+8613912345678"),
        ("8619912345678", "+8619912345678"),
        ("0086 15012345678", "+8615012345678"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("+49 30 1234567", "+49301234567"), ("0044 20 7946 0958", "+442079460958")]
)
def test_office_lines_are_refused_on_forms_and_taken_from_staff_imports(raw, expected):
    with pytest.raises(ValueError):
        normalise_phone(raw)  # a form's number must receive a code
    assert normalise_phone(raw, mobile_only=False) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "12345678901",
        "1380013800",
        "138001380001",
        "+86 12800138000",
        "+86 010 12345678",
        "555-0100",
        "+0 123456789",
        "phone",
        "+1234",
    ],
)
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_clean_fields_reports_every_field_at_once():
    with pytest.raises(InvalidSubmission) as caught:
        clean_fields({"email": "nope", "phone": "123", "role": "boss", "name": "x" * 121})
    assert set(caught.value.errors) == {"email", "phone", "role", "name"}


def test_clean_fields_requires_what_the_form_requires():
    with pytest.raises(InvalidSubmission) as caught:
        clean_fields({"email": "a@b.com", "name": " ", "company": ""}, required=("email", "name", "company"))
    assert set(caught.value.errors) == {"name", "company"}


def test_clean_fields_normalises_and_keeps_only_what_was_sent():
    clean = clean_fields({"email": " A@B.COM", "name": "  王   芳 ", "role": "user"})
    assert clean == {"email": "A@b.com", "name": "王 芳", "role": "user"}


@pytest.mark.parametrize("role", ["decision_maker", "user", "requester", "other", ""])
def test_every_role_is_accepted(role):
    assert clean_fields({"email": "a@b.com", "role": role})["role"] == role
