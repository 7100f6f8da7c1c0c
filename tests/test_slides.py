"""The slides' layout, measured: text against its box by the font-metric estimate of
prune_ready.analyze.write.slides (hand-computed here), the figure below the text, no figure twice."""

import shutil
import zipfile

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Inches, Pt

from prune_ready.analyze.pipeline import analyze
from prune_ready.analyze.write.findings import Finding
from prune_ready.analyze.write.plots import FigureFiles
from prune_ready.analyze.write.slides import (
    FONT_EM,
    LINES_UNDER_TITLE,
    MIN_PT,
    TITLE_PT,
    fits,
    lines_needed,
    write_slides,
)
from tests.test_analyze_unchanged import FIXTURE


def test_lines_are_counted_from_the_characters_advance_widths():
    m, space = FONT_EM["wide"], FONT_EM["narrow"]
    # at 10 pt "mmmm" is 4 · 0.86 · 10 = 34.4 pt: three words with two spaces take 108.4 pt
    assert 10 * (3 * 4 * m + 2 * space) == pytest.approx(108.4)
    assert lines_needed("mmmm mmmm mmmm", 10, Pt(110)) == 1
    assert lines_needed("mmmm mmmm mmmm", 10, Pt(100)) == 2  # the third word wraps
    assert lines_needed("mmmm mmmm\nmmmm", 10, Pt(110)) == 2  # a paragraph starts a line
    assert lines_needed("m" * 30, 10, Pt(100)) == 3  # 258 pt: a word longer than a line breaks


def test_a_frame_fits_when_its_lines_times_their_height_fit_inside_the_insets():
    deck = Presentation()
    box = deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_textbox(0, 0, Pt(100), Pt(40))
    box.text_frame.text = "mmmm mmmm mmmm"
    box.text_frame.paragraphs[0].font.size = Pt(10)
    # insets 7.2 pt left and right: 85.6 pt wide, 2 lines; 2 · 1.2 · 10 = 24 pt <= 40 - 7.2
    assert fits(box.text_frame, box.width, box.height)
    assert not fits(box.text_frame, box.width, Pt(30))  # 24 pt > 30 - 7.2


def test_a_long_title_shrinks_until_it_fits(tmp_path):
    long = "At each setting's sparsest level, " + "; ".join(
        f"pruning=method{k}: at 1.19%, kaiming_normal is best; 0 of 4 lines significantly behind"
        for k in range(2)
    )
    png = tmp_path / "figure.png"
    Image.new("RGB", (1500, 600), "white").save(png)
    figure = FigureFiles(1, "m on d", "Figure 1: x (m on d)", png, png, "differences")
    findings = {"m on d": [Finding(long, "the numbers", "differences", None)]}
    write_slides(tmp_path / "s.pptx", "t", "s", [figure], findings, ["Other inits: only a."])
    title = Presentation(str(tmp_path / "s.pptx")).slides[1].shapes.title
    size = title.text_frame.paragraphs[0].font.size.pt
    assert lines_needed(long, TITLE_PT, title.width - Inches(0.2)) == 3  # too long at 24 pt
    assert MIN_PT <= size < TITLE_PT and fits(title.text_frame, title.width, title.height)
    assert Presentation(str(tmp_path / "s.pptx")).slides[1].notes_slide.notes_text_frame.text == (
        f"{long}. the numbers"
    )


def small_deck(tmp_path) -> Presentation:
    """The slides of the fixture's runs cut to seeds 0-1: a first small sweep. Their file is
    undated (every zip member 1980-01-01): the same slides made again are the same bytes."""
    root = tmp_path / "runs"
    shutil.copytree(FIXTURE / "runs", root)
    for run in root.rglob("seed=2"):
        shutil.rmtree(run)
    analyze([root], tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / "slides.pptx") as package:
        assert {m.date_time for m in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    return Presentation(str(tmp_path / "out" / "slides.pptx"))


def test_every_slide_fits_its_text_and_shows_a_figure_once(tmp_path):
    deck = small_deck(tmp_path)
    slides = list(deck.slides)
    blobs = []
    for slide in slides:
        texts = [s for s in slide.shapes if s.has_text_frame]
        for shape in texts:
            assert fits(shape.text_frame, shape.width, shape.height), shape.text_frame.text
            assert all(p.font.size.pt >= MIN_PT for p in shape.text_frame.paragraphs)
        body = [s for s in texts if s != slide.shapes.title and slide is not slides[0]]
        assert sum(len(s.text_frame.paragraphs) for s in body) <= LINES_UNDER_TITLE
        bottom = max(s.top + s.height for s in texts)
        for picture in [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]:
            assert picture.top >= bottom  # below the title and lines, not over them
            assert picture.top + picture.height <= deck.slide_height
            blobs.append(picture.image.sha1)
    assert len(blobs) == len(set(blobs)) > 0
    assert slides[1].shapes.title.text_frame.paragraphs[0].font.size.pt <= TITLE_PT
    assert all(s.notes_slide.notes_text_frame.text for s in slides[1:])
