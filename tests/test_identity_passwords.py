"""Password rules (NIST SP 800-63B style) and argon2id parameters."""

import datetime as dt

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from akun.core.hashers import TunedArgon2PasswordHasher
from akun.identity import signin
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def student():
    return builders.student(
        builders.school(), nama="Siti Nurhaliza", tanggal_lahir=dt.date(2012, 3, 9),
        local_part="sitinurhaliza7",
    )  # fmt: skip


def codes_for(password, user):
    try:
        validate_password(password, user=user)
    except ValidationError as e:
        return {err.code for err in e.error_list}
    return set()


def test_good_passphrases_pass_any_characters(student):
    for pw in ("kopi pagi di teras", "Guru-ku hebat 🙂", "αβγδεζηθ", "tujuh.delapan.9"):
        assert codes_for(pw, student) == set(), pw


def test_at_least_eight_characters(student):
    assert "password_too_short" in codes_for("k0pi!ya", student)
    assert "password_too_short" not in codes_for("k0pi!yaa", student)


def test_not_the_initial_password(student):
    assert codes_for("Kt4mPq7rXa", student) == {"password_is_initial"}


def test_not_the_user_id(student):
    assert "password_has_user_id" in codes_for("xxsitinurhaliza7yy", student)
    assert "password_has_user_id" in codes_for("SitiNurhaliza7!", student)


def test_not_the_name_or_a_part_of_it(student):
    assert "password_has_name" in codes_for("aku siti yang manis", student)
    assert "password_has_name" in codes_for("NURHALIZA rocks", student)
    assert "password_has_name" in codes_for("Nurhalíza Sití", student)  # accents folded


@pytest.mark.parametrize(
    "pw", ["lahir 09032012", "2012-03-09 ok!", "09/03/2012zz", "tgl 090312 aku", "9-3-2012 hore"]
)
def test_not_the_birth_date_in_several_formats(student, pw):
    assert "password_has_birth_date" in codes_for(pw, student)


def test_not_a_common_password_indonesian_included(student):
    for pw in ("bismillah", "Bismillah123", "sayangku", "indonesia1", "password", "12345678",
               "katasandi", "kata sandi", "merahputih", "qwertyuiop"):  # fmt: skip
        assert "password_too_common" in codes_for(pw, student), pw


def test_messages_say_what_to_change_in_both_languages(student):
    with translation.override("id"):
        with pytest.raises(ValidationError) as e:
            validate_password("bismillah", user=student)
        assert "umum" in str(e.value.messages[0]).lower()
        with pytest.raises(ValidationError) as e:
            validate_password("pendek", user=student)
        assert "8 karakter" in e.value.messages[0]
    with translation.override("en"):
        with pytest.raises(ValidationError) as e:
            validate_password("pendek", user=student)
        assert "at least 8 characters" in e.value.messages[0]


def test_argon2id_at_least_owasp_minimum():
    encoded = make_password("kopi pagi di teras")
    assert encoded.startswith("argon2$argon2id$")
    params = identify_hasher(encoded).decode(encoded)
    assert params["memory_cost"] >= 19 * 1024
    assert params["time_cost"] >= 2
    assert params["parallelism"] >= 1


def test_rehash_on_sign_in_when_parameters_change(student, rf):
    from akun.identity import actions, terms

    actions.do_accept_terms(student, terms.current().version, actor="t")
    actions.do_activate_account(student, "kopi pagi di teras", actor="t")

    # An older, weaker hash (as if the parameters were raised since it was made).
    class Weak(TunedArgon2PasswordHasher):
        time_cost = 1
        memory_cost = 8 * 1024

    student.password = Weak().encode("kopi pagi di teras", Weak().salt())
    student.save(update_fields=["password"])
    old = student.password
    result = signin.attempt(rf.post("/masuk"), student.user_id, "kopi pagi di teras")
    assert result.outcome is signin.Outcome.OK
    student.refresh_from_db()
    assert student.password != old
    assert identify_hasher(student.password).decode(student.password)["memory_cost"] == 19 * 1024
