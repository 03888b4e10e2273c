"""Service accounts: an organization's OAuth clients for the client-credentials grant."""
