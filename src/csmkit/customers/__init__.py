"""Customer 360: one customer across channels, merges and splits, assets and warranty.

* [`CustomerDirectory`][csmkit.customers.CustomerDirectory] — resolves phone numbers (E.164), e-mail
  addresses and social handles to one customer, merges and splits with an audit trail, and builds
  [`customer_view()`][csmkit.customers.CustomerDirectory.customer_view] (客户360视图);
* [`Asset`][csmkit.customers.Asset] — serial, model, product line, purchase and warranty dates,
region;
* [`MemoryCustomerRecords`][csmkit.customers.MemoryCustomerRecords] /
  [`SqliteCustomerRecords`][csmkit.customers.SqliteCustomerRecords] /
  [`PostgresCustomerRecords`][csmkit.customers.PostgresCustomerRecords] — where profiles, assets,
  merges and the audit trail are kept (customers and identities stay in the ticket store);
  [`customer_records_for()`][csmkit.customers.customer_records_for] finds or creates them next
  to a SQLite or PostgreSQL store.

See ``docs/customers.md``.
"""

from __future__ import annotations

from csmkit.customers._directory import (
    AssetView,
    CustomerDirectory,
    CustomerView,
    SurveyRecord,
    TicketView,
)
from csmkit.customers._identities import (
    have_phonenumbers,
    normalise_email,
    normalise_identity,
    normalise_phone,
    parse_identity,
)
from csmkit.customers._model import Asset, AuditEntry, WarrantyState, WarrantyStatus
from csmkit.customers._pg_records import PostgresCustomerRecords
from csmkit.customers._records import (
    RECORDS_SCHEMA_VERSION,
    CustomerRecords,
    MemoryCustomerRecords,
    SqliteCustomerRecords,
)
from csmkit.customers._records_open import customer_records_for

__all__ = [
    "RECORDS_SCHEMA_VERSION",
    "Asset",
    "AssetView",
    "AuditEntry",
    "CustomerDirectory",
    "CustomerRecords",
    "CustomerView",
    "MemoryCustomerRecords",
    "PostgresCustomerRecords",
    "SqliteCustomerRecords",
    "SurveyRecord",
    "TicketView",
    "WarrantyState",
    "WarrantyStatus",
    "customer_records_for",
    "have_phonenumbers",
    "normalise_email",
    "normalise_identity",
    "normalise_phone",
    "parse_identity",
]
