"""A grown catalog: generated product names, the search terms that match 1 % of them,
and the import's body (the import itself: tests/integration/test_bench_growth.py)."""

from microshop.bench.catalog_names import (
    ADJECTIVES,
    MATERIALS,
    NOUNS,
    product_name,
    products,
    search_terms,
)

CATALOG = [product_name(n) for n in range(20_000)]


def test_names_are_made_of_an_adjective_a_material_a_noun_and_a_number() -> None:
    assert product_name(0) == "amber bamboo anchor 0"
    adjective, material, noun, number = product_name(12_345).split()
    assert (adjective in ADJECTIVES, material in MATERIALS, noun in NOUNS) == (True, True, True)
    assert number == "12345"
    assert len(set(CATALOG)) == len(CATALOG)
    assert max(len(name) for name in CATALOG) <= 200  # the catalog's limit


def test_every_search_term_matches_one_percent_of_the_catalog() -> None:
    terms = search_terms()
    assert len(terms) >= 150 and all(len(term) >= 4 for term in terms)
    for term in terms[::5]:
        by_substring = sum(term in name for name in CATALOG)
        by_word_prefix = sum(any(w.startswith(term) for w in name.split()) for name in CATALOG)
        assert by_substring == by_word_prefix == len(CATALOG) // 100, term


def test_an_import_body_is_what_the_catalog_takes() -> None:
    assert list(products(5, 2)) == [
        {"name": product_name(5), "price": "9.99", "stock": 1000},
        {"name": product_name(6), "price": "9.99", "stock": 1000},
    ]
