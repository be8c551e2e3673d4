//! What mail proposes and a person decides: a contact's phone or position
//! from a signature (when a typed value is there), a second address of the
//! same person (a merge), a deal read from a PDF invoice's text.

use chrono::NaiveDate;
use serde::Serialize;

use super::{DealInput, Result, Store, StoreError, now};
use crate::args;
use crate::model::{ClientId, ContactId};

/// A proposal for a contact, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactProposal {
    pub id: i64,
    pub contact_id: i64,
    pub contact: String,
    pub client_id: i64,
    pub client: String,
    /// `phone`, `role` or `address` (a second address of the same person).
    pub field: String,
    pub value: String,
    /// What the contact has now in that field (`None` for an address).
    pub current: Option<String>,
    /// The item it was read from, and its subject and date.
    pub item_id: Option<i64>,
    pub item: Option<String>,
    pub date: Option<String>,
    /// `pending`, `applied` (mail filled an empty field), `accepted`, `dismissed`.
    pub status: String,
}

/// A deal read from an invoice's text, waiting for a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealProposal {
    pub id: i64,
    pub client_id: Option<i64>,
    pub client: Option<String>,
    pub item_id: i64,
    /// The document's name.
    pub document: String,
    pub side: String,
    pub number: String,
    /// The total due as the text states it (with VAT); negative for a credit note.
    pub value: f64,
    pub currency: String,
    pub date: NaiveDate,
    pub status: String,
    pub deal_id: Option<i64>,
}

impl Store {
    /// Contact proposals of a client (or of everybody), pending first.
    /// `all` includes those already applied, accepted or dismissed.
    pub fn contact_proposals(&self, client: Option<ClientId>, all: bool) -> Result<Vec<ContactProposal>> {
        Ok(self.db.query(
            "SELECT p.id, p.contact_id, c.name, c.client_id, cl.name, p.field, p.value,
                    CASE p.field WHEN 'phone' THEN c.phone WHEN 'role' THEN c.role END,
                    p.item_id, i.subject, i.date, p.status
             FROM contact_proposals p
             JOIN contacts c ON c.id = p.contact_id
             JOIN clients cl ON cl.id = c.client_id
             LEFT JOIN items i ON i.id = p.item_id
             WHERE (?1 IS NULL OR c.client_id = ?1) AND (?2 <> 0 OR p.status = 'pending')
             ORDER BY p.status != 'pending', cl.name, c.name, p.id",
            args![client.map(|c| c.0), all],
            |r| {
                Ok(ContactProposal {
                    id: r.get(0)?,
                    contact_id: r.get(1)?,
                    contact: r.get(2)?,
                    client_id: r.get(3)?,
                    client: r.get(4)?,
                    field: r.get(5)?,
                    value: r.get(6)?,
                    current: r.get(7)?,
                    item_id: r.get(8)?,
                    item: r.get(9)?,
                    date: r.get(10)?,
                    status: r.get(11)?,
                })
            },
        )?)
    }

    fn contact_proposal(&self, id: i64) -> Result<(i64, String, String, String)> {
        self.db
            .query_row(
                "SELECT contact_id, field, value, status FROM contact_proposals WHERE id = ?1",
                args![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?
            .ok_or_else(|| StoreError::NotFound { what: "contact proposal", query: id.to_string() })
    }

    /// Accepts a proposal: the phone or position replaces the contact's
    /// (and counts as typed in from now on); an address joins the contact,
    /// and mail from it is re-matched to the contact. Returns the contact.
    pub fn accept_contact_proposal(&mut self, id: i64) -> Result<ContactId> {
        let (contact, field, value, status) = self.contact_proposal(id)?;
        if status == "dismissed" || status == "accepted" {
            return Err(StoreError::Invalid(format!("proposal {id} is already {status}")));
        }
        let contact = ContactId(contact);
        let patch = match field.as_str() {
            "phone" => super::ContactPatch { phone: Some(Some(value)), ..Default::default() },
            "role" => super::ContactPatch { role: Some(Some(value)), ..Default::default() },
            _ => {
                self.merge_address(contact, &value)?;
                super::ContactPatch::default()
            }
        };
        if field != "address" {
            self.edit_contact(contact, &patch)?;
        }
        self.db.execute("UPDATE contact_proposals SET status = 'accepted' WHERE id = ?1", args![id])?;
        Ok(contact)
    }

    /// Dismisses a proposal: it is not proposed again.
    pub fn dismiss_contact_proposal(&mut self, id: i64) -> Result<()> {
        self.contact_proposal(id)?;
        self.db.execute("UPDATE contact_proposals SET status = 'dismissed' WHERE id = ?1", args![id])?;
        Ok(())
    }

    /// Gives `contact` a further address: an address of another contact
    /// of the same person moves over (that contact goes when it has no
    /// address left and was found in mail); mail from it is re-matched.
    pub fn merge_address(&mut self, contact: ContactId, address: &str) -> Result<()> {
        let target = self.contact(contact)?;
        let tx = self.db.begin()?;
        let others: Vec<i64> = tx.query(
            "SELECT contact_id FROM contact_emails WHERE email = ?1 AND contact_id != ?2",
            args![address, contact.0],
            |r| r.get(0),
        )?;
        tx.execute("DELETE FROM contact_emails WHERE email = ?1 AND contact_id != ?2", args![address, contact.0])?;
        tx.execute(
            "INSERT INTO contact_emails (contact_id, email) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![contact.0, address],
        )?;
        for other in &others {
            tx.execute(
                "DELETE FROM contacts WHERE id = ?1 AND origin = 'mail'
                 AND NOT EXISTS (SELECT 1 FROM contact_emails WHERE contact_id = ?1)",
                args![other],
            )?;
        }
        tx.commit()?;
        self.rematch_for(&[], &[address.to_string()], &[target.client])?;
        Ok(())
    }

    /// Merges contact `other` into `contact`: its addresses, and its phone
    /// and position where `contact` has none; `other` is removed.
    pub fn merge_contacts(&mut self, contact: ContactId, other: ContactId) -> Result<()> {
        if contact == other {
            return Err(StoreError::Invalid("a contact cannot be merged with itself".into()));
        }
        let keep = self.contact(contact)?;
        let gone = self.contact(other)?;
        let tx = self.db.begin()?;
        tx.execute(
            "UPDATE contacts SET phone = COALESCE(phone, ?2), phone_source = COALESCE(phone_source, ?3),
                                 role = COALESCE(role, ?4), role_source = COALESCE(role_source, ?5) WHERE id = ?1",
            args![contact.0, gone.phone, gone.phone_source, gone.role, gone.role_source],
        )?;
        for e in &gone.emails {
            tx.execute(
                "INSERT INTO contact_emails (contact_id, email) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![contact.0, e],
            )?;
        }
        // SQLite's UPDATE OR IGNORE, on both: a proposal the kept contact
        // has already stays behind (and goes with `other`).
        tx.execute(
            "UPDATE contact_proposals SET contact_id = ?1 WHERE contact_id = ?2
             AND NOT EXISTS (SELECT 1 FROM contact_proposals k WHERE k.contact_id = ?1
                             AND k.field = contact_proposals.field AND k.value = contact_proposals.value)",
            args![contact.0, other.0],
        )?;
        let rev = super::counter(&tx, "rev")?;
        tx.execute(
            "UPDATE items SET rev = ?2 WHERE id IN (SELECT item_id FROM item_links WHERE contact_id = ?1)",
            args![other.0, rev],
        )?;
        tx.execute("DELETE FROM contacts WHERE id = ?1", args![other.0])?;
        tx.commit()?;
        self.rematch_for(&[], &gone.emails, &[keep.client, gone.client])?;
        Ok(())
    }

    /// Deal proposals (read from PDF invoices), pending first.
    pub fn deal_proposals(&self, all: bool) -> Result<Vec<DealProposal>> {
        let rows = self.db.query(
            "SELECT p.id, p.client_id, c.name, p.item_id, i.subject, p.side, p.number, p.value, p.currency, p.date,
                    p.status, p.deal_id
             FROM deal_proposals p
             LEFT JOIN clients c ON c.id = p.client_id
             JOIN items i ON i.id = p.item_id
             WHERE ?1 <> 0 OR p.status = 'pending'
             ORDER BY p.status != 'pending', p.date DESC, p.id",
            args![all],
            |r| {
                let date: String = r.get(9)?;
                Ok(DealProposal {
                    id: r.get(0)?,
                    client_id: r.get(1)?,
                    client: r.get(2)?,
                    item_id: r.get(3)?,
                    document: r.get(4)?,
                    side: r.get(5)?,
                    number: r.get(6)?,
                    value: r.get(7)?,
                    currency: r.get(8)?,
                    date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap_or_default(),
                    status: r.get(10)?,
                    deal_id: r.get(11)?,
                })
            },
        )?;
        Ok(rows)
    }

    fn deal_proposal(&self, id: i64) -> Result<DealProposal> {
        self.deal_proposals(true)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| StoreError::NotFound { what: "deal proposal", query: id.to_string() })
    }

    /// Confirms a deal proposal: a won deal of its client (or of `client`
    /// when given), with `value` instead of the stated total when given
    /// (the text gives the total with VAT). Returns the deal.
    pub fn confirm_deal_proposal(&mut self, id: i64, client: Option<ClientId>, value: Option<f64>) -> Result<i64> {
        let p = self.deal_proposal(id)?;
        if p.status != "pending" {
            return Err(StoreError::Invalid(format!("deal proposal {id} is already {}", p.status)));
        }
        let client = client
            .or(p.client_id.map(ClientId))
            .ok_or_else(|| StoreError::Invalid(format!("deal proposal {id} has no client; name one with --client")))?;
        let credit = p.value < 0.0;
        let input = DealInput {
            title: format!("{} {}", if credit { "Dobropis" } else { "Faktura" }, p.number),
            value: value.map(|v| if credit { -v.abs() } else { v.abs() }).unwrap_or(p.value),
            currency: p.currency.clone(),
            status: "won".into(),
            date: Some(p.date),
            products: Vec::new(),
            number: Some(p.number.clone()),
            import_key: Some(format!("proposal:{id}")),
        };
        let deal = match self.add_deal(client, &input)? {
            Some(d) => d,
            None => self
                .db
                .value("SELECT id FROM deals WHERE import_key = ?1", args![format!("proposal:{id}")])?
                .ok_or_else(|| StoreError::NotFound { what: "deal of proposal", query: id.to_string() })?,
        };
        self.db.execute(
            "UPDATE deals SET origin = 'proposal', item_id = ?2, side = ?3, updated_at = ?4 WHERE id = ?1",
            args![deal, p.item_id, p.side, now()],
        )?;
        self.db
            .execute("UPDATE deal_proposals SET status = 'confirmed', deal_id = ?2 WHERE id = ?1", args![id, deal])?;
        Ok(deal)
    }

    /// Dismisses a deal proposal (not an invoice, or not ours).
    pub fn dismiss_deal_proposal(&mut self, id: i64) -> Result<()> {
        self.deal_proposal(id)?;
        self.db.execute("UPDATE deal_proposals SET status = 'dismissed' WHERE id = ?1", args![id])?;
        Ok(())
    }
}
