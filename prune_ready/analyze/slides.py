"""slides.pptx: a title slide, one slide per finding (its takeaway as the title, its sentence and
the figure that shows it), the figures no finding showed, and what the results do not cover."""

import io
from collections.abc import Sequence
from pathlib import Path

from pptx import Presentation
from pptx.presentation import Presentation as Deck
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from prune_ready.analyze.findings import Finding
from prune_ready.analyze.plots import FigureFiles
from prune_ready.results import write_atomic

TITLE, TITLE_ONLY = 0, 5  # layouts of python-pptx's default template
WIDE = (Inches(13.333), Inches(7.5))  # 16:9


def write_slides(
    path: str | Path,
    title: str,
    subtitle: str,
    figures: Sequence[FigureFiles],
    found: dict[str, list[Finding]],
    limits: Sequence[str],
) -> int:
    """The deck, written atomically; returns its number of slides: 2 + the findings + the figures
    no finding shows."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDE
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE])
    for shape, line, top in zip(slide.placeholders, (title, subtitle), (2.2, 3.9), strict=True):
        shape.left, shape.width = Inches(0.8), deck.slide_width - Inches(1.6)
        shape.top, shape.height = Inches(top), Inches(1.5)
        shape.text = line
    shown = set()
    for name, items in found.items():
        mine = {f.slug: f for f in figures if f.set_name == name}
        for finding in items:
            slide = titled(deck, finding.title + (f" ({name})" if len(found) > 1 else ""))
            text(slide, Inches(1.45), Inches(0.9), [finding.text], 13)
            figure = mine.get(finding.figure or "")
            if figure:
                add_picture(deck, slide, figure.png, Inches(2.45))
                shown.add(figure.png)
    for figure in figures:
        if figure.png not in shown:
            add_picture(deck, titled(deck, figure.caption), figure.png, Inches(1.45))
    slide = titled(deck, "What these results do not cover")
    text(slide, Inches(1.5), deck.slide_height - Inches(2), [f"• {line}" for line in limits], 18)
    buffer = io.BytesIO()
    deck.save(buffer)
    write_atomic(path, buffer.getvalue())
    return len(deck.slides)


def titled(deck: Deck, title: str) -> Slide:
    """A slide with `title` across its full width (two lines at most at 24 pt)."""
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    shape = slide.shapes.title
    shape.left, shape.top = Inches(0.4), Inches(0.2)
    shape.width, shape.height = deck.slide_width - Inches(0.8), Inches(1.15)
    shape.text = title
    shape.text_frame.word_wrap = True
    shape.text_frame.paragraphs[0].font.size = Pt(24)
    return slide


def text(slide: Slide, top: int, height: int, lines: Sequence[str], size: int) -> None:
    """A text box of `lines` under the title, across the slide."""
    box = slide.shapes.add_textbox(Inches(0.5), top, WIDE[0] - Inches(1), height)
    box.text_frame.word_wrap = True
    for i, line in enumerate(lines):
        p = box.text_frame.paragraphs[0] if i == 0 else box.text_frame.add_paragraph()
        p.text = line
        p.font.size = Pt(size)
        p.space_after = Pt(6)


def add_picture(deck: Deck, slide: Slide, png: Path, top: int) -> None:
    """The figure centred below `top`, as large as fits."""
    margin = Inches(0.3)
    picture = slide.shapes.add_picture(str(png), margin, top)
    scale = min(
        (deck.slide_width - 2 * margin) / picture.width,
        (deck.slide_height - top - margin) / picture.height,
    )
    picture.width, picture.height = (
        Emu(int(picture.width * scale)),
        Emu(int(picture.height * scale)),
    )
    picture.left = Emu(int((deck.slide_width - picture.width) / 2))
