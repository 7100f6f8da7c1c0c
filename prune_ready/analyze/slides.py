"""slides.pptx: a title slide, one slide per figure, and a findings slide."""

import io
from collections.abc import Sequence
from pathlib import Path

from pptx import Presentation
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.presentation import Presentation as Deck
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from prune_ready.analyze.figures import FigureFiles
from prune_ready.results import write_atomic

TITLE, TITLE_ONLY, TITLE_AND_CONTENT = 0, 5, 1  # layouts of python-pptx's default template


def write_slides(
    path: str | Path,
    title: str,
    subtitle: str,
    figures: Sequence[FigureFiles],
    findings: dict[str, str],
) -> None:
    """The deck, written atomically; len(figures) + 2 slides."""
    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE])
    slide.shapes.title.text = title
    slide.placeholders[1].text = subtitle

    for figure in figures:
        slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
        slide.shapes.title.text = figure.caption
        slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(24)
        add_picture(deck, slide, figure.png)

    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_AND_CONTENT])
    slide.shapes.title.text = "Findings"
    body = slide.placeholders[1].text_frame
    body.word_wrap = True
    body.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
    text = findings or {"No finished runs": "there are no statistics yet."}
    size = Pt(14 if sum(len(t) for t in text.values()) < 900 else 10)
    for i, (name, paragraph) in enumerate(text.items()):
        p = body.paragraphs[0] if i == 0 else body.add_paragraph()
        p.text = f"{name}: {paragraph}"
        p.font.size = size

    buffer = io.BytesIO()
    deck.save(buffer)
    write_atomic(path, buffer.getvalue())


def add_picture(deck: Deck, slide: Slide, png: Path) -> None:
    """The figure centred below the title, as large as fits."""
    top, margin = Inches(1.4), Inches(0.3)
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
