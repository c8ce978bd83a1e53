"""provenance: every delivered picture says how it was made, machine-readably.

IPTC's ``DigitalSourceType`` (``adloom.model.source_type`` picks the term) goes into
the file's XMP packet: a PNG ``iTXt`` chunk keyed ``XML:com.adobe.xmp``, a JPEG APP1
segment (the places the XMP specification, part 3, gives those formats). Meta labels ads
whose images carry ``trainedAlgorithmicMedia`` or
``compositeWithTrainedAlgorithmicMedia`` there (shared/ad-platform-facts.md).
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from PIL import Image

from adloom import __version__
from adloom.brief.inputs import IMAGE_FORMATS
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
