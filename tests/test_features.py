"""Text normalisation shared by training and serving."""

from __future__ import annotations

import html
import unicodedata

import pytest

from model_training import features
from model_training.features import (
    TRUSTED_DOMAINS,
    clean_markup,
    fold_accents,
    is_phone_number,
    normalize_text,
    registrable_domain,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello<br />World", "hello world"),
        ("&lt;b&gt;bold&lt;/b&gt; &amp;#39;quoted&amp;#39;", "bold 'quoted'"),
        ('see <a href="http://www.spam.example.com/x">here</a>', "see urlx example com here"),
        ("ＦＲＥＥ ｍｏｎｅｙ", "free money"),  # NFKC folds full-width letters
        ("fr\u200bee mo\ufeffney", "free money"),  # zero-width space and BOM removed
        ("c\u202eheck", "check"),  # bidi override removed
        ("Élève Garçon À Noël", "eleve garcon a noel"),
        ("visit https://bit.ly/abc?x=1 now", "visit urlx bit ly now"),
        ("go to www.example.fr today", "go to urlx example fr today"),
        # A bare domain counts when its ending is a public suffix, whatever the country.
        ("Source : bamako-hebdo.net/economie et resultats.office-bac.sn", "source : urlx bamako hebdo net et urlx office bac sn"),
        ("M.Sall a dit etc.", "m.sall a dit etc."),
        # Trusted news outlets and institutions, subdomains included, are sources, not links.
        ("See the BBC's explainer: https://www.bbc.com/news/world-africa-1", "see the bbc's explainer: sourcex"),
        ("lire www.rfi.fr/fr/afrique et fr.wikipedia.org/wiki/CFA", "lire sourcex et sourcex"),
        ("rejoignez https://chat.whatsapp.com/AbC ou wa.me/22177", "rejoignez chatlinkx ou chatlinkx"),
        ("mail me at jean.dupont@exemple.sn", "mail me at emailx"),
        ("call +221 77 123 45 67 or 0800123456", "call phonex or phonex"),
        ("appelle le 77 845 20 13 ou 0 7 4 9 2 2 5 1 8 6", "appelle le phonex ou phonex"),
        # Amounts, years and dates are not phone numbers.
        ("3 500 000 FCFA entre 1945-2024, le 12.05.2024", "3 500 000 fcfa entre 1945-2024, le 12.05.2024"),
        ("it costs 25 euros", "it costs 25 euros"),
        # Letters spelt out one by one, and leet inside words, are joined back.
        ("contactez-le sur w h a t s a p p", "contactez-le sur whatsapp"),
        ("v1agra, m@rabout, c0ntact; mp3 4x4 covid19", "viagra, marabout, contact; mp3 4x4 covid19"),
        # Lookalike letters of other scripts inside Latin words are read as Latin, and flagged; words wholly in
        # another script are left alone.
        ("Grаnd mаrаbout Kоffi", "grand marabout koffi mixscriptx"),
        ("Привет всем, ΑΘΗΝΑ", "привет всем, αθηνα"),
        ("l'article d'hier qu'il a lu jusqu'à l’aube", "article hier il a lu a aube"),
        ("freeeeeee!!!!!!!", "freee!!!!!!!"),  # letters only: squashing punctuation measured worse
        ("  many   spaces\n\tand lines ", "many spaces and lines"),
        ("a\x1cb\u2028c\u3000d\u0085e", "a b c d e"),  # every character Unicode calls a space
        ("", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_clean_markup_skips_only_steps_that_cannot_change_the_text(corpus_texts):
    """Tags are looked for only in texts with a "<", and ASCII texts skip NFKC and the non-ASCII characters'
    removal: the same result as every step run on every text, on the corpora and on texts made to need them."""

    def every_step(text):
        text = html.unescape(text)
        text = features._HREF_RE.sub(r" \1 ", text)
        text = features._TAG_RE.sub(" ", text)
        text = html.unescape(text)
        text = unicodedata.normalize("NFKC", text)
        text = features._INVISIBLE_RE.sub("", text)
        return features._APOSTROPHES_RE.sub("'", text)

    texts = list(corpus_texts)
    texts += ["it`s &lt;b&gt;bold&lt;/b&gt;", '&lt;a href="http://x.sn"&gt;lien&lt;/a&gt;', "a < b > c", "ﬁn ＦＲＥＥ",
              "fr\u200bee l\u2019aube", "&amp;#96;quoted&amp;#96;", "&#8203;caché", "plain ascii text", ""]
    assert [clean_markup(text) for text in texts] == [every_step(text) for text in texts]


def test_fold_accents_keeps_letters():
    assert fold_accents("àâäéèêëîïôöùûüç") == "aaaeeeeiioouuuc"


def test_normalize_without_links_drops_only_untrusted_links():
    text = "Bon article https://casino-lion.bet et www.rfi.fr, WhatsApp wa.me/2217 +221 77 123 45 67"
    assert normalize_text(text, keep_links=False) == "bon article et sourcex , whatsapp chatlinkx phonex"


def test_trusted_domains_can_be_extended_per_site():
    text = "voir https://www.mon-journal.sn/article-12"
    assert normalize_text(text) == "voir urlx mon journal sn"
    assert normalize_text(text, trusted=TRUSTED_DOMAINS | {"mon-journal.sn"}) == "voir sourcex"


@pytest.mark.parametrize(("host", "domain"), [("news.bbc.co.uk", "bbc.co.uk"), ("sec.gouv.sn", "sec.gouv.sn"),
                                              ("localhost", ""), ("m.sall", "")])
def test_registrable_domain_uses_the_bundled_public_suffix_list(host, domain):
    assert registrable_domain(host) == domain


@pytest.mark.parametrize(("candidate", "phone"), [("+225 07 59 31 88 24", True), ("00 226 70 58 14 33", True),
                                                  ("77 614 28 90", True), ("1 000 000", False),
                                                  ("1945-2024", False), ("12.05.2024", False)])
def test_phone_numbers_are_told_from_amounts_and_dates(candidate, phone):
    assert is_phone_number(candidate) is phone


def test_fold_accents_drops_exactly_the_combining_marks_of_the_decomposition():
    def by_definition(text: str) -> str:
        return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))

    every_character = [chr(cp) for cp in range(0x30000) if not 0xD800 <= cp <= 0xDFFF]
    assert [fold_accents(ch) for ch in every_character] == [by_definition(ch) for ch in every_character]
    for text in ("élève garçon Ngoné Aïssatou", "e\u0301te\u0301", "Ἀθῆναι", "", "ascii only"):
        assert fold_accents(text) == by_definition(text)
