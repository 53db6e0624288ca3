-- civreg schema 13: a user's full name as shown to people ("Amina Otieno"),
-- set when the account is made (`civreg user add --name`, the users
-- screen). It is signed in the user.add event's data (and object hash) and
-- projected from it like the other columns (`civreg audit verify`); NULL for
-- accounts made without one, whose user.add is unchanged.
ALTER TABLE users ADD COLUMN name TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100);
