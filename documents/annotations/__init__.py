"""Members' private annotations, bookmarks, read receipts and offline packets."""
