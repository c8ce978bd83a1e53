"""C2PA manifests on creatives, with a certificate made in the test (a throwaway CA and
a signer it issues; cryptography), read back with c2pa-python's own reader."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from adloom.brief.read import read_campaign
from adloom.cli import main
from adloom.console import Env
from adloom.creative import provenance
from adloom.errors import BriefError
from brandart import busy_packshot, mixed_brief
from briefs import write_brief


def _certificate(
    subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool,
) -> x509.Certificate:  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.add_extension(usage, critical=True).sign(issuer_key, hashes.SHA256())


def signing_files(folder: Path) -> tuple[Path, Path]:
    """A certificate chain (signer, then CA) and the signer's key, as PEM files."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    org = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "adloom tests")
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "adloom test CA"), org])
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "adloom test signer"), org])
    ca = _certificate(ca_name, ca_key, ca_name, ca_key, ca=True)
    leaf = _certificate(name, key, ca_name, ca_key, ca=False)
    cert = folder / "signer.pem"
    cert.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca)))
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "signer.key").write_bytes(pem)
    return cert, folder / "signer.key"


def test_every_creative_carries_a_signed_manifest_matching_its_xmp(tmp_path: Path) -> None:
    signing_files(tmp_path)
    brief = mixed_brief(
        tmp_path, placements="meta_feed, display_728x90", variants=1,
        signing_cert="signer.pem", signing_key="signer.key",
    )  # fmt: skip
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = ["run", str(brief), "--out", str(tmp_path / "out"), "--json"]
    assert main(argv, env=Env(stdout=stdout, stderr=stderr)) == 0, stderr.getvalue()
    creatives = sorted((tmp_path / "out" / "creatives").glob("*/*"))
    assert len(creatives) == 6
    for path in creatives:
        manifest: dict[str, Any] | None = provenance.read_manifest(path)
        assert manifest is not None, path.name
        # Valid: the signature and the hashes hold (the test CA is not trusted, as expected).
        assert manifest["validation_state"] == "Valid", path.name
        assert manifest["claim_generator_info"][0]["name"] == "adloom"
        (actions,) = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")]
        created, *edits = actions["data"]["actions"]
        assert created["action"] == "c2pa.created"
        source = created["digitalSourceType"].rsplit("/", 1)[1]
        assert source == provenance.read_source_type(path)
        assert created["softwareAgent"]["name"] == (
            "adloom" if "_own_" in path.name else "draft-image"
        )
        steps = [e["parameters"]["description"] for e in edits]
        assert "headline, button and logo set by adloom" in steps
        assert ("the brand's product image placed, scaled only" in steps) == ("_pack_" in path.name)
        # The draft's outpaint (fit auto: a 728x90 cut from its master keeps under half)
        # is named as another model's work on the picture.
        extended = "extended to the placement's shape by draft-outpaint" in steps
        assert extended == ("display_728x90" in path.name)


def _steps(path: Path) -> list[str]:
    manifest = provenance.read_manifest(path)
    assert manifest is not None, path.name
    (actions,) = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")]
    return [a["parameters"]["description"] for a in actions["data"]["actions"][1:]]


def test_a_model_cut_out_of_the_packshot_is_named_in_the_manifest(tmp_path: Path) -> None:
    signing_files(tmp_path)
    busy_packshot(tmp_path / "bag.png")  # neither transparent nor on a plain background
    settings = {"name": "Cut", "brand": "Lumen", "provider": "draft", "languages": "en",
                "placements": "meta_feed", "signing_cert": "signer.pem",
                "signing_key": "signer.key"}  # fmt: skip
    rows = [{"id": "pack", "product": "Coffee bag", "message": "Roasted Monday",
             "product_image": "bag.png"}]  # fmt: skip
    brief = write_brief(tmp_path / "brief.xlsx", campaign=settings, briefs=rows)
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = ["run", str(brief), "--out", str(tmp_path / "out")]
    assert main(argv, env=Env(stdout=stdout, stderr=stderr)) == 0, stderr.getvalue()
    creatives = sorted((tmp_path / "out" / "creatives").glob("*/*"))
    assert creatives
    for path in creatives:
        steps = _steps(path)
        assert steps[0] == "the product's background removed by draft-image", steps
        assert "the brand's product image placed, scaled only" in steps


def test_signing_files_are_checked_at_their_cells(tmp_path: Path) -> None:
    signing_files(tmp_path)
    (tmp_path / "bad.key").write_text("not a key")
    brief = mixed_brief(tmp_path, signing_cert="signer.pem", signing_key="bad.key")
    with pytest.raises(BriefError) as caught:
        read_campaign(brief)
    (problem,) = caught.value.problems
    assert problem.where.startswith("Campaign!B")
    assert "bad.key is not an unencrypted PEM private key" in problem.message
    only_cert = mixed_brief(tmp_path, signing_cert="signer.pem")
    with pytest.raises(BriefError) as caught:
        read_campaign(only_cert)
    assert "signing_cert and signing_key go together" in caught.value.problems[0].message
