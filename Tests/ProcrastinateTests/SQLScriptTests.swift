import Testing

@testable import Procrastinate

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesAndComments() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'it''s; here');
            /* block; /* nested; */ still comment; */
            SELECT "odd;name" FROM a;
            SELECT E'back\\'slash;';
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$
            BEGIN
                RETURN 1; -- inside
            END;
            $body$;
            DO $$ BEGIN PERFORM 1; END $$;
            SELECT $1::text
            """
        #expect(SQLScript.statements(in: script) == [
            "-- a comment; with a semicolon\nCREATE TABLE a (x text DEFAULT 'it''s; here')",
            "/* block; /* nested; */ still comment; */\nSELECT \"odd;name\" FROM a",
            "SELECT E'back\\'slash;'",
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$\nBEGIN\n    RETURN 1; -- inside\nEND;\n$body$",
            "DO $$ BEGIN PERFORM 1; END $$",
            "SELECT $1::text",
        ])
    }

    @Test func dropsEmptyAndCommentOnlyStatements() {
        #expect(SQLScript.statements(in: ";;\n-- only a comment\n;  ") == [])
        #expect(SQLScript.statements(in: "SELECT $$$$;") == ["SELECT $$$$"])
    }

    @Test func findsEveryStatementOfOurSchema() {
        let statements = SQLScript.statements(in: SchemaManager.schemaSQL)
        let creates = statements.filter { $0.contains("CREATE ") }
        // 1 DO block, 3 types, 4 tables, 9 indexes, 18 functions, 7 triggers; then ours, with
        // the records of our 12 migrations.
        #expect(statements.count == 118)
        #expect(creates.count == 105)
    }
}
