"""Render the tags that load a Vite entry, read from the build manifest."""

import json
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

NOT_BUILT = mark_safe(
    "<!-- Frontend not built: run make run -->"
    '<p class="frontend-missing" role="alert">Frontend not built: run '
    "<code>make run</code> (or <code>npm --prefix frontend run build</code>).</p>"
)

# {manifest path: (mtime_ns, manifest)}; rebuilt when `vite build` rewrites the file.
_manifests: dict[Path, tuple[int, dict[str, Any]]] = {}


def _manifest_path() -> Path:
    return Path(settings.FRONTEND_DIST) / ".vite" / "manifest.json"


def load_manifest() -> dict[str, Any] | None:
    """Return the Vite manifest, or None when the frontend has not been built."""
    path = _manifest_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _manifests.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    _manifests[path] = (mtime, manifest)
    return manifest


def _walk_imports(
    manifest: dict[str, Any], key: str, seen: set[str], order: list[str]
) -> None:
    # Depth first, so a chunk's own imports come before it (CSS cascade order).
    for imported in manifest.get(key, {}).get("imports", []):
        if imported not in seen and imported in manifest:
            seen.add(imported)
            _walk_imports(manifest, imported, seen, order)
            order.append(imported)


@register.simple_tag
def vite_entry(entry: str) -> SafeString:
    """Return stylesheet, modulepreload and script tags for one entry of the build."""
    manifest = load_manifest()
    if manifest is None:
        return NOT_BUILT
    chunk = manifest.get(entry)
    if not isinstance(chunk, dict) or "file" not in chunk:
        return format_html(
            "<!-- Frontend entry {} missing from the build: run make run -->"
            '<p class="frontend-missing" role="alert">Frontend entry <code>{}</code> '
            "is not in the build: run <code>make run</code>.</p>",
            entry,
            entry,
        )
    imports: list[str] = []
    _walk_imports(manifest, entry, {entry}, imports)

    css: list[str] = []
    for key in [*imports, entry]:
        for href in manifest[key].get("css", []):
            if href not in css:
                css.append(href)
    preloads = [manifest[key]["file"] for key in imports]

    styles = format_html_join(
        "\n", '<link rel="stylesheet" href="{}">', ((static(h),) for h in css)
    )
    modules = format_html_join(
        "\n", '<link rel="modulepreload" href="{}">', ((static(f),) for f in preloads)
    )
    script = format_html(
        '<script type="module" src="{}"></script>', static(chunk["file"])
    )
    # The parts are already escaped SafeStrings, so format_html keeps them as they are.
    return format_html("{}\n{}\n{}", styles, modules, script)
