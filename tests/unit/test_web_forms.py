"""What the storefront's forms accept, and the sentence each refusal shows."""

import pytest

from microshop.services.web.domain import (
    FormError,
    Registration,
    check_card,
    check_registration,
    check_sign_in,
    clean_search,
    parse_id,
    parse_page,
    parse_quantity,
    safe_next,
)


def test_a_registration_is_trimmed_and_accepted() -> None:
    new = check_registration("  Ada   Lovelace ", " ada@example.com ", "secret-pw", "secret-pw")
    assert new == Registration("Ada Lovelace", "ada@example.com", "secret-pw")


@pytest.mark.parametrize(
    ("name", "email", "password", "confirm", "sentence"),
    [
        ("", "a@example.com", "secret-pw", "secret-pw", "Please enter your name."),
        ("x" * 101, "a@example.com", "secret-pw", "secret-pw", "at most 100 characters"),
        ("Ada", "ada.example.com", "secret-pw", "secret-pw", "valid e-mail address"),
        ("Ada", "ada@example", "secret-pw", "secret-pw", "valid e-mail address"),
        ("Ada", "a@example.com", "short", "short", "at least 8 characters"),
        ("Ada", "a@example.com", "x" * 129, "x" * 129, "at most 128 characters"),
        ("Ada", "a@example.com", "secret-pw", "secret-px", "do not match"),
        ("Ada\x00", "a@example.com", "secret-pw", "secret-pw", r"U\+0000"),
    ],
)
def test_a_registration_refusal_says_what_to_correct(
    name: str, email: str, password: str, confirm: str, sentence: str
) -> None:
    with pytest.raises(FormError, match=sentence):
        check_registration(name, email, password, confirm)


def test_signing_in_needs_both_fields_and_never_says_which_one_was_wrong() -> None:
    assert check_sign_in(" ada@example.com ", "pw") == ("ada@example.com", "pw")
    with pytest.raises(FormError, match="Please enter your e-mail address and your password"):
        check_sign_in("ada@example.com", "")
    with pytest.raises(FormError, match="do not match an account"):
        check_sign_in("a" * 400, "pw")


@pytest.mark.parametrize(
    ("text", "card"),
    [("", None), ("  ", None), ("4000 0000 0000 0002", "4000 0000 0000 0002")],
)
def test_a_card_number_is_optional(text: str, card: str | None) -> None:
    assert check_card(text) == card


@pytest.mark.parametrize("text", ["1234", "4000-0000-0000-000x", "1" * 20, "12345678901"])
def test_a_card_number_that_cannot_be_one_is_refused(text: str) -> None:
    with pytest.raises(FormError, match="12 to 19 digits"):
        check_card(text)


@pytest.mark.parametrize(("text", "quantity"), [("1", 1), (" 7 ", 7), ("1000", 1000)])
def test_a_quantity_is_a_whole_number_from_one_to_a_thousand(text: str, quantity: int) -> None:
    assert parse_quantity(text) == quantity


@pytest.mark.parametrize("text", [None, "", "0", "-1", "1001", "1.5", "two", "\u0661"])
def test_any_other_quantity_is_refused_with_a_sentence(text: str | None) -> None:
    with pytest.raises(FormError, match="whole number from 1 to 1000"):
        parse_quantity(text)


def test_zero_is_a_quantity_where_it_removes_a_line() -> None:
    assert parse_quantity("0", allow_zero=True) == 0


@pytest.mark.parametrize(
    ("text", "known"),
    [("1", 1), ("2147483647", 2**31 - 1), ("0", None), ("2147483648", None), ("x", None)],
)
def test_an_id_is_a_positive_32_bit_number(text: str, known: int | None) -> None:
    assert parse_id(text) == known


@pytest.mark.parametrize(("text", "page"), [(None, 1), ("3", 3), ("0", 1), ("-2", 1), ("x", 1)])
def test_a_page_number_that_is_not_one_is_the_first_page(text: str | None, page: int) -> None:
    assert parse_page(text) == page


def test_a_search_is_its_words_and_at_most_a_hundred_characters() -> None:
    assert clean_search("  blue \t mug ") == "blue mug"
    assert len(clean_search("a" * 500)) == 100


@pytest.mark.parametrize(
    ("asked", "went"),
    [
        ("/cart", "/cart"),
        ("/orders?page=2", "/orders?page=2"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\u00e9", "/"),
    ],
)
def test_after_signing_in_the_shopper_goes_back_only_to_a_page_of_this_site(
    asked: str | None, went: str
) -> None:
    assert safe_next(asked) == went
