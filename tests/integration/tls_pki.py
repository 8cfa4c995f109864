"""A throw-away PKI for the security tests: CAs and certificates made by the
test itself (EC P-256, python3-cryptography), written as PEM files in a
temporary directory, and the ssl contexts the simulators use with them."""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOUR = datetime.timedelta(hours=1)


class Issued:
    """A certificate and its key, as files."""

    def __init__(self, cert, key, cert_path, key_path):
        self.cert = cert
        self.key = key
        self.cert_path = cert_path
        self.key_path = key_path

    @property
    def serial_hex(self):
        """The serial as `openssl x509 -serial` prints it (upper case, whole bytes)."""
        n = self.cert.serial_number
        return n.to_bytes((n.bit_length() + 7) // 8, "big").hex().upper()

    def key_pem(self):
        with open(self.key_path) as f:
            return f.read()


class Pki:
    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)

    def _write(self, name, cert, key):
        cert_path = os.path.join(self.dir, f"{name}.crt")
        key_path = os.path.join(self.dir, f"{name}.key")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        return Issued(cert, key, cert_path, key_path)

    def ca(self, name):
        key = ec.generate_private_key(ec.SECP256R1())
        name = f"{name}-ca"  # its files never clash with a leaf's
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - HOUR).not_valid_after(now + 24 * HOUR)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        return self._write(name, cert, key)

    def issue(self, ca, cn, name=None, server=False, dns=(), ips=(), expired=False,
              serial=None):
        """A leaf certificate for cn signed by ca (server: with the names in
        dns/ips; else a client certificate); expired: it ended an hour ago."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.utcnow()
        start, end = (now - 48 * HOUR, now - HOUR) if expired else (now - HOUR, now + 24 * HOUR)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                   .issuer_name(ca.cert.subject).public_key(key.public_key())
                   .serial_number(serial or x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(ca.key, hashes.SHA256())
        return self._write(name or cn, cert, key)


def client_context(ca=None, cert=None, verify=True):
    """An ssl context of a charger: trusts ca (the gateway's server CA) and
    presents cert (an Issued) when given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(ca.cert_path)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert.cert_path, cert.key_path)
    return ctx


def server_context(cert, client_ca=None):
    """An ssl context of the simulated CSMS: presents cert and, with
    client_ca, requires a client certificate signed by it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert_path, cert.key_path)
    if client_ca:
        ctx.load_verify_locations(client_ca.cert_path)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
