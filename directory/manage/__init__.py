"""The volunteer, moderator and admin web app under /{locale}/manage/."""
