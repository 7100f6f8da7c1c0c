"""slides.pptx: a title slide, then one slide per figure a finding shows (the finding's takeaway as
its title, the figure, and the takeaways of the other findings it shows as at most two short
lines), a slide per finding without a figure, the figures no finding showed, and what the
results do not cover. No figure is on two slides; each finding's full sentence, with its numbers,
is in the speaker notes.

Text must fit its box, checked by measurement, not by eye: `lines_needed` estimates the rendered
width of a line from per-character advance widths of the template's font, Calibri (FONT_EM), and
a title or a body line is set in the largest size (from its own down to MIN_PT) at which it fits.
"""

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

from pptx import Presentation
from pptx.presentation import Presentation as Deck
from pptx.slide import Slide
from pptx.text.text import TextFrame
from pptx.util import Emu, Inches, Pt

from prune_ready.analyze.write.findings import Finding
from prune_ready.analyze.write.plots import FigureFiles
from prune_ready.results import write_atomic

TITLE, TITLE_ONLY = 0, 5  # layouts of python-pptx's default template
WIDE = (Inches(13.333), Inches(7.5))  # 16:9
TITLE_PT, BODY_PT, MIN_PT = 24, 16, 12
LINES_UNDER_TITLE = 2  # short lines a slide holds between its title and its figure
LEADING = 1.2  # a line's height, in ems of its font size (PowerPoint's single spacing)
# Advance widths of Calibri, in ems, by class of character (from its metrics, rounded up): an
# estimate of a line's rendered width that errs long, so that a line said to fit does.
FONT_EM = {"narrow": 0.26, "digit": 0.51, "upper": 0.62, "wide": 0.86, "other": 0.50}
NARROW = set("iljtfrI.,;:'!|()[]{} ")
WIDE_CHARS = set("mwMW@%—")


def char_em(char: str) -> float:
    """A character's advance width in ems (FONT_EM): the line-width estimate's unit."""
    if char in NARROW:
        return FONT_EM["narrow"]
    if char in WIDE_CHARS:
        return FONT_EM["wide"]
    if char.isdigit():
        return FONT_EM["digit"]
    return FONT_EM["upper"] if char.isupper() else FONT_EM["other"]


def lines_needed(text: str, size_pt: float, width: int) -> int:
    """How many lines `text` wraps to at `size_pt` in a box `width` EMU wide (inside its insets):
    word by word, as PowerPoint wraps (a word longer than a line breaks), each paragraph (a line
    of `text`) on a new line."""
    room, space = width / Pt(1), size_pt * char_em(" ")  # points
    total = 0
    for paragraph in text.split("\n"):
        lines, used = 1, 0.0
        for word in paragraph.split(" "):
            w = size_pt * sum(char_em(c) for c in word)
            if used and used + space + w > room:  # the word starts the next line
                lines, used = lines + 1, 0.0
            used += (space if used else 0.0) + w
            while used > room:
                lines, used = lines + 1, used - room
        total += lines
    return total


def fits(frame: TextFrame, width: int, height: int) -> bool:
    """Whether the text of `frame` (each paragraph at its font size) fits a box of `width` ×
    `height` EMU, its insets taken off."""
    inner_w = width - frame.margin_left - frame.margin_right
    inner_h = height - frame.margin_top - frame.margin_bottom
    used = sum(
        lines_needed(p.text, p.font.size.pt, inner_w) * LEADING * p.font.size.pt
        for p in frame.paragraphs
    )
    return used * Pt(1) <= inner_h


def write_slides(
    path: str | Path,
    title: str,
    subtitle: str,
    figures: Sequence[FigureFiles],
    found: dict[str, list[Finding]],
    limits: Sequence[str],
) -> int:
    """The deck, written atomically; returns its number of slides."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDE
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE])
    for shape, line, top, size in zip(
        slide.placeholders, (title, subtitle), (2.2, 3.9), (40, 20), strict=True
    ):
        shape.left, shape.width = Inches(0.8), deck.slide_width - Inches(1.6)
        shape.top, shape.height = Inches(top), Inches(1.5)
        shape.text = line
        shrink(shape.text_frame, shape.width, shape.height, size)
    shown: set[Path] = set()
    for name, items in found.items():
        mine = {f.slug: f for f in figures if f.set_name == name}
        where = f" ({name})" if len(found) > 1 else ""
        groups: dict[str, list[Finding]] = {}
        for finding in items:  # findings that show one figure share its slide
            figure = mine.get(finding.figure or "")
            groups.setdefault(figure.slug if figure else f"#{len(groups)}", []).append(finding)
        for key, group in groups.items():
            figure = mine.get(key)
            lines = [f.title for f in group[1:]][:LINES_UNDER_TITLE]
            notes = [f"{f.title}. {f.text}" for f in group]
            slide = content(deck, group[0].title + where, lines, notes)
            if figure:
                add_picture(deck, slide, figure.png, body_bottom(slide))
                shown.add(figure.png)
    for figure in figures:
        if figure.png not in shown:
            slide = content(deck, figure.caption, [], [figure.caption])
            add_picture(deck, slide, figure.png, body_bottom(slide))
    heads = [line.split(":")[0].rstrip(".") for line in limits]
    content(deck, "What these results do not cover", ["; ".join(heads) + "."], list(limits))
    buffer = io.BytesIO()
    deck.save(buffer)
    write_atomic(path, undated(buffer.getvalue()))
    return len(deck.slides)


def undated(pptx: bytes) -> bytes:
    """The same package with every member dated 1980-01-01 (zip's earliest): python-pptx dates
    them when saved, so the same slides made twice would differ in their bytes."""
    source, out = zipfile.ZipFile(io.BytesIO(pptx)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            dated = zipfile.ZipInfo(member.filename, date_time=(1980, 1, 1, 0, 0, 0))
            dated.compress_type = member.compress_type
            target.writestr(dated, source.read(member))
    return out.getvalue()


def content(deck: Deck, title: str, lines: Sequence[str], notes: Sequence[str]) -> Slide:
    """A slide: `title` across its full width (two lines at most, from TITLE_PT down to MIN_PT as
    it needs), up to LINES_UNDER_TITLE short `lines` under it, and `notes` as speaker notes."""
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    shape = slide.shapes.title
    shape.left, shape.top = Inches(0.4), Inches(0.2)
    shape.width, shape.height = deck.slide_width - Inches(0.8), Inches(1.0)
    shape.text = title
    shape.text_frame.word_wrap = True
    shrink(shape.text_frame, shape.width, shape.height, TITLE_PT)
    if lines:
        box = slide.shapes.add_textbox(
            Inches(0.5), shape.top + shape.height, deck.slide_width - Inches(1), Inches(0.8)
        )
        box.text_frame.word_wrap = True
        box.text_frame.text = "\n".join(lines[:LINES_UNDER_TITLE])
        shrink(box.text_frame, box.width, box.height, BODY_PT)
    slide.notes_slide.notes_text_frame.text = "\n\n".join(notes)
    return slide


def shrink(frame: TextFrame, width: int, height: int, size: int) -> None:
    """Set the frame's text at the largest size from `size` down to MIN_PT at which it fits
    (MIN_PT if none does; the layout test then fails)."""
    for pt in range(size, MIN_PT - 1, -1):
        for paragraph in frame.paragraphs:
            paragraph.font.size = Pt(pt)
        if fits(frame, width, height):
            return


def body_bottom(slide: Slide) -> int:
    """Where a slide's title and lines end: the figure goes below."""
    return max(shape.top + shape.height for shape in slide.shapes)


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
