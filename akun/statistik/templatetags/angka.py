"""Numbers as the reader's language writes them: 27.008.332 and 64,3 in Indonesian."""

from django import template
from django.utils import translation

register = template.Library()


def _id() -> bool:
    return (translation.get_language() or "id").startswith("id")


@register.filter
def angka(value):
    if value is None or value == "":
        return "–"
    text = f"{int(value):,}"
    return text.replace(",", ".") if _id() else text


@register.filter
def persen(value):
    if value is None:
        return "–"
    text = f"{float(value):.1f}"
    return (text.replace(".", ",") if _id() else text) + "%"
