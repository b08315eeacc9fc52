"""CRM sync: leads and their stages pushed to a CRM, stage changes pulled back, keyed on
the CRM's own record id kept beside the lead (crm_links), so a changed email updates the
same record and a re-run changes nothing. See docs/API.md."""
