"""What a report's first screen shows, seen in headless Chromium (issue 27: the answer chart and
the short findings first, not a wall of numbers).

    python -m tests.first_screen results/<study>/report.html [--screenshot first.png]

Chromium lays the page out in a window of WIDTH × HEIGHT and reports where the first figure and
the findings list lie (a copy of the page with a script added, read back through --dump-dom; the
report itself is not touched); --screenshot also saves what that window shows. Chromium is not
a dependency of the project: Debian's `chromium` package is what was used (150.0).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

WIDTH, HEIGHT = 1280, 800  # a laptop's screen
FLAGS = (  # no network, no profile, no GPU: the same page, the same layout, every time
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
PROBE = """<script>  // appended to a copy of the report: where its answer lies, on the body

window.addEventListener("load", () => {
  const box = (el) => el ? [el.getBoundingClientRect().top, el.getBoundingClientRect().bottom] : null;
  const img = document.querySelector("img");
  const found = {
    first_image: img ? img.getAttribute("src") : null,
    image: box(img),
    loaded: img ? img.naturalWidth > 0 : false,
    findings: box(document.querySelector("ol.findings li")),
    viewport: [innerWidth, innerHeight],
  };
  document.body.setAttribute("data-first-screen", JSON.stringify(found));
});
</script>"""


@dataclass(frozen=True)
class Screen:
    """Where the report's first figure and first finding lie, in CSS pixels from the top."""

    first_image: str | None  # its src, relative to the report
    image: tuple[float, float] | None  # top, bottom
    loaded: bool  # the image was read (a broken link has no natural size)
    findings: tuple[float, float] | None  # the first finding's line
    viewport: tuple[int, int]  # width, height that Chromium gave the page

    def shows(self) -> list[str]:
        """What of the answer lies on the first screen: 'chart', 'findings'."""
        height = self.viewport[1]
        shown = []
        if self.image and self.loaded and self.image[1] <= height:
            shown.append("chart")
        if self.findings and self.findings[1] <= height:
            shown.append("findings")
        return shown


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def browse(args: list[str], profile: str, height: int = HEIGHT) -> str:
    browser = chromium()
    if browser is None:
        raise RuntimeError("no headless browser: install Debian's chromium")
    command = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}"]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout


def probe(page: Path, profile: str, height: int = HEIGHT) -> dict:
    """What PROBE found in `page`, laid out in a window `height` tall."""
    dom = browse(["--dump-dom", page.as_uri()], profile, height)
    marker = 'data-first-screen="'
    start = dom.index(marker) + len(marker)
    return json.loads(dom[start : dom.index('"', start)].replace("&quot;", '"'))


def first_screen(report: Path, screenshot: Path | None = None) -> Screen:
    """Lay `report` (an HTML file) out in headless Chromium; where its answer lies."""
    report = report.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        html = report.read_text()
        base = f'<base href="{report.parent.as_uri()}/">'
        page = Path(tmp) / "probe.html"
        page.write_text(
            html.replace("<head>", f"<head>{base}", 1).replace("</body>", PROBE + "</body>")
        )
        found = probe(page, tmp)
        # --dump-dom's page is shorter than its window (by 143 px in Chromium 150): widen the
        # window by the difference, so the page gets the HEIGHT a screenshot's page gets
        if found["viewport"][1] != HEIGHT:
            found = probe(page, tmp, 2 * HEIGHT - found["viewport"][1])
        if screenshot is not None:
            browse([f"--screenshot={screenshot.resolve()}", report.as_uri()], tmp)
    return Screen(
        found["first_image"],
        tuple(found["image"]) if found["image"] else None,
        found["loaded"],
        tuple(found["findings"]) if found["findings"] else None,
        tuple(found["viewport"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a report.html")
    parser.add_argument("--screenshot", type=Path, help="save the first screen as this PNG")
    args = parser.parse_args()
    screen = first_screen(args.report, args.screenshot)
    print(screen)
    print(f"the first screen shows: {', '.join(screen.shows()) or 'neither chart nor findings'}")
    sys.exit(0 if screen.shows() == ["chart", "findings"] else 1)


if __name__ == "__main__":
    main()
