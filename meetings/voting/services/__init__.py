"""Every change to the roll, remote attendance, exclusions, the floor, motions and polls, one
module per part:

- ``roll``: marking the roll, a remote member's check-in and check-out;
- ``remote``: applying to attend online, the chair's decision and disconnection;
- ``identity``: the clerk's connection and identity check (本人確認);
- ``suggestions``: join and leave events from the video call, offered to the clerk;
- ``exclusions``: 除斥 (§117);
- ``floor``: asking for, granting, giving, skipping and ending the floor;
- ``motions``: the question and the majority it needs;
- ``polls``: opening, closing, the clerk's counts, the chair's casting vote, the declaration;
- ``ballots``: casting ballots (alone or many at once) and objections;
- ``common``: the broadcast of the live state parts and the sitting lock they share.

Each service is keyword-only, runs in one transaction, appends an audit entry and publishes the
live update through ``meetings.events`` (sent on commit). Refusals raise ``VotingError`` with a
translated message; nothing is written except, for refused votes, an audit entry of the refusal.
"""
