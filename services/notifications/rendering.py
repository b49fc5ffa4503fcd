"""G2: a circulation's facts rendered from ONE template (``templates/circulation.html.j2``) as HTML
and as a printable PDF.

The PDF is laid out by fpdf2 from the same HTML and embeds a subset of Noto Sans SC (SIL OFL 1.1),
which the project installs itself as a Python dependency (``pylopdf-fonts-zh-cn``, pinned in
pyproject.toml; no system fonts or packages): the document reads anywhere and its text can be
extracted. The font file is checked against ``FONT_SHA256`` before use, so another font never
slips in unnoticed. Rendering is deterministic: the creation date is the document's date and the
file id comes from the document number, so the same events give the same bytes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time
from functools import cache
from pathlib import Path

import pylopdf_fonts_zh_cn
from fpdf import FPDF, TextStyle
from jianfu.notifications.domain.circulation_document import CirculationFacts
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE = "circulation.html.j2"
TEMPLATES = Path(__file__).parent / "templates"
FONT_FAMILY = "NotoSansSC"
FONT_SHA256 = "faa6c9df652116dde789d351359f3d7e5d2285a2b2a1f04a2d7244df706d5ea9"  # NotoSansSC-Regular.otf
PRODUCER = "jianfu"
RED, BLACK = "#c00000", "#000000"
# A formal notice: the issuing body in red at the head (红头), everything else black.
TAG_STYLES = {
    "h1": TextStyle(color=RED, font_size_pt=22, t_margin=2, b_margin=1, l_margin="Center"),
    "h2": TextStyle(color=BLACK, font_size_pt=15, t_margin=1, b_margin=0.5, l_margin="Center"),
    "h3": TextStyle(color=BLACK, font_size_pt=13, t_margin=2, b_margin=0.5),
}


class FontMissing(RuntimeError):
    """The CJK font is not installed, or is not the pinned file."""


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, keep_trailing_newline=True)


def render_html(facts: CirculationFacts, print: bool = False) -> str:
    """The document as HTML; ``print`` leaves out the screen stylesheet (the PDF's layout is the markup)."""
    return _environment().get_template(TEMPLATE).render(facts=facts, print=print)


@cache
def font_path() -> Path:
    """The pinned CJK font, verified by its SHA-256."""
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise FontMissing(f"{path} is missing: reinstall jianfu (pip install .) to get the CJK font")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != FONT_SHA256:
        raise FontMissing(f"{path} has SHA-256 {digest}, expected {FONT_SHA256}")
    return path


class _Document(FPDF):
    def __init__(self, document_number: str) -> None:
        super().__init__(format="A4")
        self._id = hashlib.sha256(document_number.encode()).hexdigest()[:32].upper()

    def file_id(self) -> str:
        """Same number, same id (fpdf2's default hashes the bytes: equal too, but say why)."""
        return f"<{self._id}><{self._id}>"


def render_pdf(facts: CirculationFacts) -> bytes:
    """The printable PDF: A4, the font embedded as a subset, metadata from the facts only."""
    pdf = _Document(facts.document_number)
    pdf.set_creation_date(datetime.combine(facts.issued_on, time(), UTC))
    pdf.set_producer(PRODUCER)
    pdf.set_creator(PRODUCER)
    pdf.set_author(facts.issuing_body)  # the title comes from the template's <title>
    pdf.set_lang("zh-CN")
    pdf.add_font(FONT_FAMILY, fname=str(font_path()))
    pdf.add_font(FONT_FAMILY, style="B", fname=str(font_path()))  # one weight: bold as regular
    pdf.set_font(FONT_FAMILY, size=12)
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    pdf.write_html(render_html(facts, print=True), font_family=FONT_FAMILY, tag_styles=TAG_STYLES,
                   li_prefix_color=BLACK)
    return bytes(pdf.output())


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
