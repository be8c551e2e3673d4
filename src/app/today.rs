//! Today: the agenda of the day and week, reminders due, threads waiting for our reply, clients gone silent.
