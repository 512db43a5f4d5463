"""Google as a SAML service provider, for the tests: the AuthnRequest Google sends (unsigned,
HTTP-Redirect, its issuer, its ACS, NameIDPolicy unspecified -- as Google's third-party SSO
profile sends it) and a pysaml2 SP configured as Google is, that checks Akun's answer."""

import base64
import datetime as dt
import uuid
import zlib
from urllib.parse import urlencode

from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED

DOMAIN = "belajar.test"


def authn_request(entity_id: str, acs: str) -> tuple[str, str]:
    """(request id, XML) shaped as Google's."""
    rid = "_" + uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'ID="{rid}" Version="2.0" IssueInstant="{now}" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'ProviderName="google.com" IsPassive="false" AssertionConsumerServiceURL="{acs}">'
        '<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        f"{entity_id}</saml:Issuer>"
        f'<samlp:NameIDPolicy AllowCreate="true" Format="{NAMEID_FORMAT_UNSPECIFIED}"/>'
        "</samlp:AuthnRequest>"
    )
    return rid, xml


def redirect_url(sso_url: str, xml: str, relay_state: str) -> str:
    deflated = zlib.compress(xml.encode())[2:-4]  # raw DEFLATE, as the binding says
    query = {"SAMLRequest": base64.b64encode(deflated).decode(), "RelayState": relay_state}
    return f"{sso_url}?{urlencode(query)}"


def sp_client(entity_id: str, acs: str, idp_metadata: str) -> Saml2Client:
    conf = SPConfig()
    conf.load(
        {
            "entityid": entity_id,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]},
                    "want_response_signed": True,
                    "want_assertions_signed": True,
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "name_id_format": NAMEID_FORMAT_UNSPECIFIED,
                }
            },
            "metadata": {"inline": [idp_metadata]},
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "allow_unknown_attributes": True,
        }
    )
    return Saml2Client(config=conf)
