// Tests for CicloCampaigns.
