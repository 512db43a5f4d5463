"""Printable credential slips (PDF): one per person, ten per A4 page, with cut lines.

Each slip: school, name, class, user ID, initial password, the sign-in address and a QR code
of it. The QR code is the same on every slip, so it is drawn once (a PDF form XObject) and
placed by reference: 1,000 slips stay small and fast.
"""

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

COLS, ROWS = 2, 5
PAGE_W, PAGE_H = A4
SLIP_W, SLIP_H = PAGE_W / COLS, PAGE_H / ROWS
PAD = 6 * mm
QR_SIZE = 24 * mm


@dataclass
class Slip:
    nama: str
    rombel: str
    user_id: str
    password: str


def _latin(text: str) -> str:
    # The PDF's standard fonts cover Windows-1252; anything else prints as '?', not garbage.
    return (text or "").encode("cp1252", "replace").decode("cp1252")


def _fit(text: str, font: str, size: float, width: float) -> str:
    text = _latin(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _qr_form(c: canvas.Canvas, url: str) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    w, h = x1 - x0, y1 - y0
    d = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / w, 0, 0, QR_SIZE / h, -x0, -y0])
    d.add(widget)
    c.beginForm("signin_qr")
    renderPDF.draw(d, c, 0, 0)
    c.endForm()


def _cut_lines(c: canvas.Canvas) -> None:
    c.saveState()
    c.setDash(3, 3)
    c.setLineWidth(0.4)
    c.setStrokeGray(0.55)
    for i in range(1, COLS):
        c.line(i * SLIP_W, 0, i * SLIP_W, PAGE_H)
    for j in range(1, ROWS):
        c.line(0, j * SLIP_H, PAGE_W, j * SLIP_H)
    c.restoreState()


def _template_form(c: canvas.Canvas, labels: dict, signin_url: str) -> None:
    """Everything that is the same on every slip (labels, address, QR code), drawn once."""
    c.beginForm("slip")
    top = SLIP_H - PAD
    c.setFont("Helvetica", 7.5)
    c.setFillGray(0.35)
    c.drawString(PAD, top - 7, _fit(labels["title"], "Helvetica", 7.5, SLIP_W - 2 * PAD))
    c.setFillGray(0)
    c.drawString(PAD, top - 7 - 42, labels["user_id"])
    c.drawString(PAD, top - 7 - 67, labels["password"])
    c.drawString(
        PAD, PAD + 9, _fit(f"{labels['signin']}: {signin_url}", "Helvetica", 7.5, SLIP_W - 2 * PAD)
    )
    c.setFont("Helvetica", 7)
    c.setFillGray(0.35)
    c.drawString(PAD, PAD, _fit(labels["note"], "Helvetica", 7, SLIP_W - 2 * PAD))
    c.saveState()
    c.translate(SLIP_W - PAD - QR_SIZE, top - 14 - QR_SIZE)
    c.doForm("signin_qr")
    c.restoreState()
    c.endForm()


def render_slips(
    slips: list[Slip], *, school: str, signin_url: str, compress: bool = True
) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1 if compress else 0)
    c.setTitle(_latin(_("Account slips") + " · " + school))
    c.setAuthor("Akun")
    labels = {
        "title": _latin(_("Learning account") + " · " + school),
        "class": _latin(_("Class")),
        "user_id": _latin(_("User ID")),
        "password": _latin(_("Initial password")),
        "signin": _latin(_("Sign in at")),
        "note": _latin(_("Change the password at the first sign-in. Keep this slip private.")),
    }
    _qr_form(c, signin_url)
    _template_form(c, labels, signin_url)
    text_w = SLIP_W - 2 * PAD - QR_SIZE - 3 * mm
    per_page = COLS * ROWS
    if not slips:
        c.setFont("Helvetica", 12)
        c.drawString(PAD, PAGE_H - 2 * PAD, _latin(_("No accounts with an initial password.")))
    for i, slip in enumerate(slips):
        if i and i % per_page == 0:
            _cut_lines(c)
            c.showPage()
        k = i % per_page
        x0, y0 = (k % COLS) * SLIP_W, PAGE_H - (k // COLS + 1) * SLIP_H
        c.saveState()
        c.translate(x0, y0)
        c.doForm("slip")
        c.restoreState()
        # Only what differs per person: one text object per slip.
        top = y0 + SLIP_H - PAD - 7
        t = c.beginText(x0 + PAD, top - 15)
        t.setFont("Helvetica-Bold", 12)
        t.textLine(_fit(slip.nama, "Helvetica-Bold", 12, text_w))
        t.setTextOrigin(x0 + PAD, top - 27)
        t.setFont("Helvetica", 9)
        t.textLine(_fit(f"{labels['class']}: {slip.rombel or '-'}", "Helvetica", 9, text_w))
        t.setTextOrigin(x0 + PAD, top - 53)
        t.setFont("Courier-Bold", 10)
        t.textLine(_fit(slip.user_id, "Courier-Bold", 10, text_w))
        t.setTextOrigin(x0 + PAD, top - 82)
        t.setFont("Courier-Bold", 15)
        t.textLine(_latin(slip.password))
        c.drawText(t)
    _cut_lines(c)
    c.showPage()
    c.save()
    return buf.getvalue()
