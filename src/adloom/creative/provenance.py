"""provenance: every delivered picture says how it was made, machine-readably.

With a signing certificate configured (Campaign settings ``signing_cert`` and
``signing_key``), the file also gets a C2PA manifest (``c2pa-python``): adloom as the
claim generator, the model that made the picture and the compose steps as actions.

IPTC's ``DigitalSourceType`` (``adloom.model.source_type`` picks the term) goes into
the file's XMP packet: a PNG ``iTXt`` chunk keyed ``XML:com.adobe.xmp``, a JPEG APP1
segment (the places the XMP specification, part 3, gives those formats). Meta labels ads
whose images carry ``trainedAlgorithmicMedia`` or
``compositeWithTrainedAlgorithmicMedia`` there (shared/ad-platform-facts.md).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

import c2pa
from PIL import Image

from adloom import __version__
from adloom.brief.inputs import IMAGE_FORMATS, signing_algorithm
from adloom.model import IPTC_SOURCE

_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PNG_KEY = "XML:com.adobe.xmp"


def xmp(source_type: str) -> bytes:
    """The XMP packet naming ``source_type`` (an IPTC term) and adloom as the tool."""
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{_RDF}">'
        '<rdf:Description rdf:about=""'
        f' xmlns:Iptc4xmpExt="{_IPTC_EXT}" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        f' Iptc4xmpExt:DigitalSourceType="{IPTC_SOURCE}{source_type}"'
        f' xmp:CreatorTool="adloom {__version__}"/>'
        "</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="r"?>'
    )
    return packet.encode("utf-8")


def read_source_type(path: Path) -> str | None:
    """The IPTC DigitalSourceType term a picture's XMP names (None: it names none)."""
    with Image.open(path, formats=IMAGE_FORMATS) as image:
        packet = image.info.get("xmp") or image.info.get(PNG_KEY)
    if not packet:
        return None
    text = packet.decode("utf-8") if isinstance(packet, bytes) else str(packet)
    start, end = text.find("<x:xmpmeta"), text.find("</x:xmpmeta>")
    if start < 0 or end < 0:
        return None
    root = ElementTree.fromstring(text[start : end + len("</x:xmpmeta>")])  # noqa: S314 - files adloom wrote
    for node in root.iter(f"{{{_RDF}}}Description"):
        value = node.get(f"{{{_IPTC_EXT}}}DigitalSourceType")
        if value:
            return value.removeprefix(IPTC_SOURCE)
    return None


_MIME = {".png": "image/png", ".jpg": "image/jpeg"}


def sign(
    data: bytes,
    ext: str,
    *,
    cert: Path,
    key: Path,
    source_type: str,
    model: str,
    steps: Sequence[str],
    title: str,
) -> bytes:
    """``data`` (a PNG or JPEG) with a C2PA manifest signed by ``cert``/``key``: created
    by ``model`` as ``source_type``, then ``steps`` (compose's edits) as actions."""
    key_pem = key.read_bytes()
    actions: list[dict[str, object]] = [
        {
            "action": "c2pa.created",
            "digitalSourceType": f"{IPTC_SOURCE}{source_type}",
            "softwareAgent": {"name": model or "adloom"},
        },
    ]
    actions += [{"action": "c2pa.edited", "parameters": {"description": step}} for step in steps]
    manifest = {
        "claim_generator_info": [{"name": "adloom", "version": __version__}],
        "title": title,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }
    info = c2pa.C2paSignerInfo(
        alg=signing_algorithm(key_pem),
        sign_cert=cert.read_bytes(),
        private_key=key_pem,
        ta_url=None,
    )
    signed = io.BytesIO()
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(json.dumps(manifest)) as builder:
        builder.sign(signer, _MIME[ext], io.BytesIO(data), signed)
    return signed.getvalue()


def read_manifest(path: Path) -> dict[str, object] | None:
    """The active C2PA manifest of a picture and its validation, or None without one."""
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        return None
    try:
        with path.open("rb") as file, c2pa.Reader(mime, file) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError:
        return None
    manifest = dict(store["manifests"][store["active_manifest"]])
    manifest["validation_state"] = store.get("validation_state")
    return manifest
