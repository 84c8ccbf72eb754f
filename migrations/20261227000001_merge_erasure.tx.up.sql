-- §11: erasing a customer also clears the answers of the merges it took part in
-- (customer_merges.result holds the survivor's resulting fields and each side's conflicting
-- values). The server's role may rewrite that one column, nothing else of the row. No index:
-- an erasure is rare and reads its organization's merges once.
GRANT UPDATE (result) ON customer_merges TO customer_service_app;
