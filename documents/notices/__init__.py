"""Notices (お知らせ) from the secretariat to bodies or members, with read receipts."""
