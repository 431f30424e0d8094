"""Who may be called, and when: numbers and calling windows (`phones`, `windows`), the
do-not-call list and the ledger of every dial zaza attempted (`store`), and the rules that
read them (`rules`). Every face that dials (`calls dispatch`, `calls batch`) goes through
`rules.Guard`; nothing here prints."""
