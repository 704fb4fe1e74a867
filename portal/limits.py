"""How long a note or a reason may be: one cap for the pages' forms and the API alike."""

NOTE_MAX = 2000
FOLLOWUP_NOTE_MAX = 4000
