"""Model fields whose values are stored encrypted, and keyed blind indexes to find them.

Each value is sealed with AES-256-GCM from a Tink keyset. The associated data binds the
ciphertext to its place: ``<app>.<model>|<field>|<row nonce>``. A ciphertext copied into
another column or another row therefore fails to decrypt instead of showing the wrong
person's data.

Why a row nonce and not the primary key: most tables get their id from the database during the
INSERT, after the value must already be sealed. Sealing after the insert would need a second
UPDATE and leave a window with an unbound value. Every model with encrypted fields therefore
carries ``row_nonce``, a random UUID set when the object is created in Python (see
``EncryptedModel``). It is unique, so two rows cannot share one binding, and it survives dumps,
restores and renumbering of ids.

``EncryptedModel.from_db`` puts each loaded ciphertext on the object as a sealed value (no
per-value converter), and the field's descriptor decrypts it lazily, on first attribute access,
with the row at hand. A value that is never read is never decrypted and, when the object is
saved again, is written back as the same ciphertext.

The database only ever sees ciphertext, so it cannot compare, search or sort these columns.
Every lookup except ``isnull`` is refused, and so is ordering (by name or by ``F()``), with a
message pointing to the blind index, rather than quietly comparing ciphertext. ``values()`` and
``values_list()`` are refused too: a value can only be opened with its row, so read objects.
``QuerySet.update()`` and ``bulk_update()`` cannot bind a value to each row and are refused too,
except to set NULL.
"""

import datetime
import json
import sys
import uuid

import tink
from django import forms
from django.core import checks, exceptions, validators
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F
from django.db.models.expressions import Col
from django.db.models.lookups import In, IsNull
from django.db.models.query_utils import DeferredAttribute
from django.db.models.sql.compiler import SQLCompiler

from apps.core.crypto import audit
from apps.core.crypto.keyring import default_keyring, key_id_of

ROW_NONCE_FIELD = "row_nonce"
# Where a row keeps its nonce as the bytes of the associated data, with the nonce they are of.
_ROW_NONCE_BYTES = "_row_nonce_aad"
# Blind-index values are "<key id, 8 hex digits>:<16-byte keyed hash, hex>".
INDEX_DIGEST_BYTES = 16
INDEX_LENGTH = 8 + 1 + 2 * INDEX_DIGEST_BYTES


class EncryptedFieldError(exceptions.FieldError):
    """An operation the database cannot do on ciphertext was asked of an encrypted field."""


class DecryptionError(Exception):
    """A stored value could not be decrypted: altered, moved, or sealed with a missing key."""


# A ciphertext loaded from the database and not yet opened is kept as (_SEALED, bytes). A tuple
# holding only untracked objects is dropped from the garbage collector's watch, whereas an
# object of our own class would be watched: with five such values per row, reading ten thousand
# rows spent more time in garbage collection than in decryption. The marker object cannot come
# from a form or a JSON document, so a loaded ciphertext is never mistaken for a value set in code.
_SEALED = object()


def sealed(data: bytes) -> tuple:
    return (_SEALED, data)


def is_sealed(value) -> bool:
    return value.__class__ is tuple and len(value) == 2 and value[0] is _SEALED


class Ciphertext(bytes):
    """Bytes sealed by ``EncryptedField.pre_save``: the only bytes the field will store."""


_MISSING = object()
_UNSET = object()


class _SealedAttribute(DeferredAttribute):
    """Opens the stored ciphertext on first read; keeps blind indexes in step with writes."""

    def __init__(self, field):
        super().__init__(field)
        self.attname = field.attname

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        # Reads of many rows spend their time here: the common case takes one dict lookup and
        # one class comparison (is_sealed is written out, a call costs as much as the rest).
        value = instance.__dict__.get(self.attname, _MISSING)
        if value.__class__ is tuple and len(value) == 2 and value[0] is _SEALED:
            value = instance.__dict__[self.attname] = self.field.open(instance, value[1])
            return value
        if value is _MISSING:
            super().__get__(instance, cls)  # loads a deferred field, then opens it
            return self.__get__(instance, cls)
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value
        if value.__class__ is tuple and len(value) == 2 and value[0] is _SEALED:
            return  # loaded from the database: its blind indexes were loaded with it
        if self.field.blind_indexes:
            stale = _stale_indexes(instance)
            for index in self.field.blind_indexes:
                stale.add(index.attname)


def _stale_indexes(instance) -> set:
    return instance.__dict__.setdefault("_stale_blind_indexes", set())


# The one place a query may put an encrypted column as it is: the columns of the objects it
# loads. Any other use (values(), an F() expression in order_by(), annotate() or a
# comparison, distinct(), an aggregate) gets a column that refuses to be compiled.
_LOADING_COLUMNS = SQLCompiler.get_default_columns.__code__


class _RefusedColumn(Col):
    """An encrypted column used as an expression: ciphertext is no value to select or sort.

    ``order_by("field")`` resolves the column and is refused there, by name; every other use
    (``order_by(F("field"))``, ``values("field")``, ``annotate(x=F("field"))``) is refused
    when the query is compiled, before anything is sent to the database.
    """

    def resolve_expression(self, *args, **kwargs):
        raise EncryptedFieldError(self.target.refusal("order by"))

    def as_sql(self, compiler, connection):
        query = compiler.query
        if self in query.select or any(self is item for item in query.annotation_select.values()):
            raise EncryptedFieldError(
                self.target.refusal(
                    "select with values(), values_list() or annotate()",
                    advice="load the objects instead (.only() narrows the columns), which "
                    "opens each value with its row",
                )
            )
        raise EncryptedFieldError(self.target.refusal("order by, group by or compare by"))


class _SealedIsNull(IsNull):
    """NULL or not is the one question the database can answer about ciphertext."""

    def process_lhs(self, compiler, connection, lhs=None):
        # The plain column's SQL: the refusing column would refuse its own null check.
        return Col.as_sql(self.lhs, compiler, connection)


class StoredCiphertext(F):
    """The stored bytes of an encrypted column, for key management only (rotation, key counts).

    ``values_list("pk", StoredCiphertext("phone"))`` returns the Tink ciphertext as bytes;
    nothing here decrypts, and the bytes mean nothing without the keyset and the row.
    """

    def resolve_expression(self, query=None, *args, **kwargs):
        column = super().resolve_expression(query, *args, **kwargs)
        if not isinstance(column, _RefusedColumn):
            raise EncryptedFieldError(f"{self.name} is not an encrypted column")
        return _CiphertextColumn(column.alias, column.target, output_field=models.BinaryField())


class _CiphertextColumn(Col):
    def get_db_converters(self, connection):
        # Only the bytes: the encrypted field's own converter would wrap them for opening.
        return self.output_field.get_db_converters(connection)


class EncryptedField(models.Field):
    """Base of the encrypted fields; subclasses say how a value becomes bytes and back."""

    descriptor_class = _SealedAttribute
    empty_strings_allowed = False
    form_class = forms.CharField

    def __init__(self, *args, keyset: str = "pii", **kwargs):
        for refused in ("unique", "db_index", "primary_key"):
            if kwargs.get(refused):
                raise EncryptedFieldError(
                    f"an encrypted field cannot be {refused}: ciphertext differs every time; "
                    "declare a BlindIndexField beside it instead"
                )
        self.keyset = keyset
        self.blind_indexes: list[BlindIndexField] = []
        self._aad_prefix = None
        self._access_policy = _UNSET
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.keyset != "pii":
            kwargs["keyset"] = self.keyset
        return name, path, args, kwargs

    def get_internal_type(self):
        return "BinaryField"

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        # EncryptedModel gives the row nonce and, in from_db(), marks loaded ciphertext as such.
        if not issubclass(self.model, EncryptedModel):
            errors.append(
                checks.Error(
                    f"{self.model._meta.label} has encrypted fields but no {ROW_NONCE_FIELD}",
                    hint="Inherit from apps.core.crypto.EncryptedModel.",
                    obj=self,
                    id="core.E101",
                )
            )
        return errors

    # --- Encoding, per subclass ---------------------------------------------------------

    def to_bytes(self, value) -> bytes:
        return str(value).encode()

    def from_bytes(self, data: bytes):
        return data.decode()

    # --- Sealing and opening ------------------------------------------------------------

    def associated_data(self, instance) -> bytes:
        """``<app>.<model>|<field>|<row nonce>``, built from parts cached per field and row."""
        prefix = self._aad_prefix
        if prefix is None:
            label = self.model._meta.concrete_model._meta.label_lower
            prefix = self._aad_prefix = f"{label}|{self.name}|".encode()

        nonce = getattr(instance, ROW_NONCE_FIELD)
        cached = instance.__dict__.get(_ROW_NONCE_BYTES)
        if cached is None or cached[0] is not nonce:
            cached = instance.__dict__[_ROW_NONCE_BYTES] = (nonce, str(nonce).encode())
        return prefix + cached[1]

    def seal(self, instance, value) -> Ciphertext:
        aead = default_keyring().aead(self.keyset)
        return Ciphertext(aead.encrypt(self.to_bytes(value), self.associated_data(instance)))

    def open(self, instance, ciphertext: bytes):
        """Decrypt a loaded value for a reader; access-logged fields record the read."""
        # This runs once for every value shown, so the calls of associated_data() and
        # _decrypt() are written out for the common case: the row's nonce bytes already built.
        row = instance.__dict__
        cached = row.get(_ROW_NONCE_BYTES)
        if cached is not None and cached[0] is row.get(ROW_NONCE_FIELD) and self._aad_prefix:
            associated_data = self._aad_prefix + cached[1]
        else:
            associated_data = self.associated_data(instance)
        try:
            plaintext = default_keyring().opener(self.keyset)(ciphertext, associated_data)
        except tink.TinkError:
            self._refuse(instance, ciphertext)

        policy = self._access_policy
        if policy is _UNSET:
            policy = self._access_policy = self._read_policy()
        if policy is not None:
            audit.record_read(policy[0], self.name, instance, policy[1])
        return self.from_bytes(plaintext)

    def _read_policy(self):
        """(model label, model policy) if reads of this field are logged, else None."""
        model_policy = getattr(self.model, "data_classification", None)
        if model_policy is None or not model_policy.is_access_logged(self.name):
            return None
        return self.model._meta.label, model_policy

    def _decrypt(self, instance, data: bytes) -> bytes:
        try:
            return default_keyring().opener(self.keyset)(data, self.associated_data(instance))
        except tink.TinkError:
            self._refuse(instance, data)

    def _refuse(self, instance, data: bytes):
        """Record why ``data`` did not open and raise DecryptionError, quoting no value."""
        label = self.model._meta.label
        key_id = key_id_of(data)
        known = {key.key_id for key in default_keyring().keys(self.keyset)}
        reason = "key missing from keyset" if key_id not in known else "authentication failed"
        audit.record_failure(
            model=label, field=self.name, pk=instance.pk, key_id=key_id, reason=reason
        )
        raise DecryptionError(
            f"{label}.{self.name} of row {instance.pk} cannot be decrypted ({reason}, key "
            f"{key_id}): the value was altered, copied from another row or column, or "
            f"sealed with a key the {self.keyset!r} keyset no longer holds"
        ) from None

    def reseal(self, instance, sealed: bytes, primary_key_id: int) -> bytes | None:
        """New ciphertext under the primary key, or None if it already is (used by rotation)."""
        if key_id_of(sealed) == primary_key_id:
            return None
        plaintext = self._decrypt(instance, sealed)
        aead = default_keyring().aead(self.keyset)
        return aead.encrypt(plaintext, self.associated_data(instance))

    def plaintext_for_index(self, instance):
        """The value without recording a read: blind indexes are computed, not shown."""
        value = instance.__dict__.get(self.attname)
        if is_sealed(value):
            return self.from_bytes(self._decrypt(instance, value[1]))
        return value

    # --- Django plumbing ----------------------------------------------------------------

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is None:
            return None
        if is_sealed(value):
            # Never read since it was loaded: write back the same ciphertext.
            return Ciphertext(value[1])
        return self.seal(model_instance, self.to_python(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if isinstance(value, Ciphertext):
            return connection.Database.Binary(bytes(value))
        raise EncryptedFieldError(
            f"{self.model._meta.label}.{self.name} is written through Model.save(), which binds "
            "each value to its row; QuerySet.update() and bulk_update() can only set it to None"
        )

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return _SealedIsNull
        raise EncryptedFieldError(self.refusal(f"filter with __{lookup_name}"))

    def get_transform(self, lookup_name):
        raise EncryptedFieldError(self.refusal(f"filter with __{lookup_name}"))

    def get_col(self, alias, output_field=None):
        if output_field is None:
            output_field = self
        # Called by the compiler that lists the columns of the objects to load: a plain
        # column, read as the ciphertext each object opens when its value is read.
        if sys._getframe(1).f_code is _LOADING_COLUMNS:
            return Col(alias, self, output_field)
        return _RefusedColumn(alias, self, output_field)

    def refusal(self, what: str, *, advice: str | None = None) -> str:
        if advice is None:
            indexes = ", ".join(f"{index.name}__matches" for index in self.blind_indexes)
            advice = (
                f"search through its blind index ({indexes})"
                if indexes
                else "declare a BlindIndexField for it to search by exact value"
            )
        return (
            f"Cannot {what} on {self.model._meta.label}.{self.name}: it is encrypted, so the "
            f"database holds only ciphertext; {advice}"
        )

    def value_to_string(self, obj):
        return self.value_from_object(obj)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": self.form_class, **kwargs})


class EncryptedTextField(EncryptedField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def formfield(self, **kwargs):
        if self.max_length:
            kwargs.setdefault("max_length", self.max_length)
        return super().formfield(**kwargs)


class EncryptedEmailField(EncryptedTextField):
    default_validators = [validators.validate_email]
    form_class = forms.EmailField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(*args, **kwargs)


class EncryptedDateField(EncryptedField):
    form_class = forms.DateField

    def to_bytes(self, value) -> bytes:
        return self.to_python(value).isoformat().encode()

    def from_bytes(self, data: bytes):
        return datetime.date.fromisoformat(data.decode())

    def to_python(self, value):
        if value is None or (
            isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
        ):
            return value
        return models.DateField().to_python(value)


class EncryptedJSONField(EncryptedField):
    form_class = forms.JSONField

    def to_bytes(self, value) -> bytes:
        return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":")).encode()

    def from_bytes(self, data: bytes):
        return json.loads(data)

    def to_python(self, value):
        return value


class EncryptedModel(models.Model):
    """Gives a model the random per-row value its encrypted fields bind ciphertext to.

    It also loads encrypted columns: ``from_db()`` puts each stored ciphertext on the object
    as a sealed value, opened on first read. Doing it here, once per row, saves a converter
    call and a descriptor write per value, which were a third of the cost of loading a row.
    """

    row_nonce = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        encrypted = _encrypted_positions(cls, field_names)
        if not encrypted:
            return super().from_db(db, field_names, values)

        # The encrypted columns skip Model.__init__ (as deferred ones do) and are put in place
        # right after it. A post_init receiver reading one would load it again from the
        # database, correctly but slowly; no receiver of this project does.
        values = list(values)
        loaded = []
        for position, attname in encrypted:
            value = values[position]
            if value is not None:
                value = (_SEALED, value if value.__class__ is bytes else bytes(value))
            loaded.append((attname, value))
            values[position] = models.DEFERRED
        instance = super().from_db(db, field_names, values)
        instance.__dict__.update(loaded)
        return instance


_positions_cache: dict = {}


def _encrypted_positions(model, field_names) -> list[tuple[int, str]]:
    """(position in the loaded row, attribute name) of each encrypted column, per column list."""
    key = (model, tuple(field_names))
    positions = _positions_cache.get(key)
    if positions is None:
        encrypted = {
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedField)
        }
        positions = _positions_cache[key] = [
            (position, name) for position, name in enumerate(field_names) if name in encrypted
        ]
    return positions


# --- Blind indexes ---------------------------------------------------------------------


class _BlindIndexAttribute(DeferredAttribute):
    """Recomputes the index on read when its source was assigned since."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        stale = instance.__dict__.get("_stale_blind_indexes")
        if stale and self.field.attname in stale:
            stale.discard(self.field.attname)
            instance.__dict__[self.field.attname] = self.field.compute(instance)
        return super().__get__(instance, cls)

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class BlindIndexField(models.CharField):
    """A keyed hash (Tink PRF) of a normalised encrypted value, for exact search and uniqueness.

    ``normalizer`` says which spellings count as the same value (e.g. a phone number with or
    without spaces); it is part of the field's declaration, so every writer and every search
    agrees. The hash is keyed by the ``pii-index`` keyset and prefixed with the key's id, so
    after that keyset's primary key changes, ``__matches`` still finds values hashed under the
    older keys until the rotation has recomputed them.
    """

    descriptor_class = _BlindIndexAttribute

    def __init__(self, *args, source: str = "", normalizer=None, keyset: str = "pii-index", **kw):
        self.source = source
        self.normalizer = normalizer
        self.keyset = keyset
        kw["max_length"] = INDEX_LENGTH
        kw.setdefault("null", True)
        kw.setdefault("editable", False)
        if not kw.get("unique"):
            kw.setdefault("db_index", True)
        super().__init__(*args, **kw)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        kwargs["source"] = self.source
        if self.keyset != "pii-index":
            kwargs["keyset"] = self.keyset
        # The normaliser is code, not schema: migrations need not carry it.
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not cls._meta.abstract:
            models.signals.class_prepared.connect(self._attach, sender=cls, weak=False)

    def _attach(self, sender, **kwargs):
        source = sender._meta.get_field(self.source)
        if not isinstance(source, EncryptedField):
            raise EncryptedFieldError(
                f"{sender._meta.label}.{self.name}: source must be encrypted"
            )
        source.blind_indexes.append(self)

    @property
    def domain(self) -> bytes:
        # Each index column hashes in its own domain: equal values in two columns do not
        # produce equal index values, so columns cannot be joined on them.
        return f"{self.model._meta.concrete_model._meta.label_lower}|{self.name}|".encode()

    def normalize(self, value) -> str | None:
        if value is None:
            return None
        text = self.normalizer(value) if self.normalizer else str(value)
        return text or None

    def digest(self, normalized: str, *, key_id: int | None = None) -> str:
        prf_set = default_keyring().prf_set(self.keyset)
        key_id = prf_set.primary_id() if key_id is None else key_id
        mac = prf_set.all()[key_id].compute(self.domain + normalized.encode(), INDEX_DIGEST_BYTES)
        return f"{key_id:08x}:{mac.hex()}"

    def compute(self, instance) -> str | None:
        source = self.model._meta.get_field(self.source)
        normalized = self.normalize(source.plaintext_for_index(instance))
        return None if normalized is None else self.digest(normalized)

    def candidates(self, value) -> list[str]:
        """The index values ``value`` may be stored as: one per key of the index keyset."""
        normalized = self.normalize(value)
        if normalized is None:
            return []
        prf_set = default_keyring().prf_set(self.keyset)
        return [self.digest(normalized, key_id=key_id) for key_id in prf_set.all()]

    def pre_save(self, model_instance, add):
        return getattr(model_instance, self.attname)


@BlindIndexField.register_lookup
class Matches(In):
    """``filter(phone_index__matches="+44 20 7946 0000")``: exact match of a plaintext value."""

    lookup_name = "matches"

    def get_prep_lookup(self):
        self.rhs = self.lhs.output_field.candidates(self.rhs) or [""]
        return super().get_prep_lookup()
