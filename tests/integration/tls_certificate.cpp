// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
#include "tls_certificate.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace integration {
namespace {

struct OpenSslDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
    void operator()(X509* certificate) const { X509_free(certificate); }
    void operator()(std::FILE* file) const { std::fclose(file); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter>;
using CertificatePtr = std::unique_ptr<X509, OpenSslDeleter>;
using FilePtr = std::unique_ptr<std::FILE, OpenSslDeleter>;

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

/// EC P-256 rather than RSA: generating it takes microseconds, even under sanitizers.
KeyPtr make_key() {
    KeyPtr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EVP_EC_gen");
    return key;
}

CertificatePtr make_certificate(EVP_PKEY* key) {
    CertificatePtr certificate(X509_new());
    check(certificate != nullptr, "X509_new");
    X509* cert = certificate.get();
    check(X509_set_version(cert, 2) == 1, "X509_set_version"); // v3
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) == 1, "ASN1_INTEGER_set");
    check(X509_gmtime_adj(X509_getm_notBefore(cert), -60) != nullptr, "X509_gmtime_adj");
    check(X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600) != nullptr, "X509_gmtime_adj");
    check(X509_set_pubkey(cert, key) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(cert);
    const auto* common_name = reinterpret_cast<const unsigned char*>("localhost");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, common_name, -1, -1, 0) == 1, "X509_NAME_add_entry");
    check(X509_set_issuer_name(cert, name) == 1, "X509_set_issuer_name"); // self-signed
    check(X509_sign(cert, key, EVP_sha256()) > 0, "X509_sign");
    return certificate;
}

FilePtr open_for_writing(const std::filesystem::path& file) {
    FilePtr opened(std::fopen(file.c_str(), "w"));
    check(opened != nullptr, "fopen");
    return opened;
}

} // namespace

TemporaryDirectory::TemporaryDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "switchboard-it-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

switchboard::TlsOptions write_self_signed_certificate(const std::filesystem::path& directory) {
    const KeyPtr key = make_key();
    const CertificatePtr certificate = make_certificate(key.get());
    switchboard::TlsOptions files{(directory / "certificate.pem").string(), (directory / "key.pem").string()};
    {
        const FilePtr out = open_for_writing(files.certificate_chain_file);
        check(PEM_write_X509(out.get(), certificate.get()) == 1, "PEM_write_X509");
    }
    {
        const FilePtr out = open_for_writing(files.private_key_file);
        check(PEM_write_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
              "PEM_write_PrivateKey");
    }
    return files;
}

} // namespace integration
