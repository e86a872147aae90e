"""Password hashing: scrypt with its parameters stored beside each hash."""

from server.passwords import SCRYPT_N, hash_password, verify_password


def test_production_parameters_and_round_trip():
    stored = hash_password("a long passphrase")
    assert stored.startswith(f"scrypt${SCRYPT_N}$8$1$")
    assert SCRYPT_N >= 2**15
    assert verify_password("a long passphrase", stored)
    assert not verify_password("a long passphrasE", stored)


def test_parameters_travel_with_the_hash():
    assert verify_password("pw", hash_password("pw", n=2**10))


def test_malformed_or_foreign_hashes_never_verify():
    for stored in ("", "plain", "bcrypt$x$y$z$a$b", "scrypt$abc$8$1$AA$AA"):
        assert not verify_password("pw", stored)
