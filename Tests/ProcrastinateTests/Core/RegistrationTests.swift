import Foundation
import Procrastinate
import ProcrastinateTesting
import Testing

/// Tasks, aliases and blueprints.
@Suite struct RegistrationTests {
    func app() -> App { App(connector: InMemoryConnector()) }

    @Test func aNameOrAliasRegisteredTwiceIsRefused() throws {
        let app = app()
        _ = try app.task("send", aliases: ["old_send"]) { (_: SendEmail) in }
        let error = #expect(throws: TaskAlreadyRegistered.self) { try app.task("send") { (_: SendEmail) in } }
        #expect(error?.description == "a task named 'send' is already registered; give it another name, or use a blueprint namespace")
        #expect(throws: TaskAlreadyRegistered.self) { try app.task("other", aliases: ["old_send"]) { (_: SendEmail) in } }
        #expect(app.taskNames == ["old_send", "send"])
        #expect(app.task(named: "old_send")?.name == "send")
    }

    @Test func blueprintTasksAreNamespacedAndBoundWhenAdded() async throws {
        let app = app()
        let emails = Blueprint()
        let send = try emails.task("send", aliases: ["legacy"]) { (_: SendEmail) in }
        let unbound = await #expect(throws: UnboundTask.self) { try await send.defer(SendEmail(to: "x", subject: "y")) }
        #expect(unbound?.description == "task 'send' belongs to a blueprint not added to an App yet: call app.add(blueprint) first")

        try app.add(emails, namespace: "emails")
        #expect(send.name == "emails:send")
        #expect(app.taskNames == ["emails:legacy", "emails:send"])
        let id = try await send.defer(SendEmail(to: "x", subject: "y"))
        #expect(try await app.jobManager.job(id: id)?.taskName == "emails:send")
    }

    @Test func addingAConflictingBlueprintAddsNothing() throws {
        let app = app()
        _ = try app.task("b") { (_: Sum) in }
        let blueprint = Blueprint()
        _ = try blueprint.task("a") { (_: Sum) in }
        _ = try blueprint.task("b") { (_: Sum) in }
        #expect(throws: TaskAlreadyRegistered.self) { try app.add(blueprint) }
        #expect(app.taskNames == ["b"])
    }

    @Test func argumentsThatDoNotDecodeNameThePathAndTheJSON() async throws {
        let app = app()
        let send = try app.task("send") { (_: SendEmail) in }
        let context = JobContext(job: Job(id: 1, queue: "default", taskName: "send"))
        let wrongType = await #expect(throws: ArgumentsError.self) {
            try await send.definition.run(arguments: #"{"to": 5, "subject": "Hi"}"#, context: context)
        }
        #expect(wrongType?.description == #"arguments of task 'send' at 'to': expected String; received {"to": 5, "subject": "Hi"}"#)
        let missing = await #expect(throws: ArgumentsError.self) {
            try await send.definition.run(arguments: #"{"to": "a@b.c"}"#, context: context)
        }
        #expect(missing?.description == #"arguments of task 'send': missing key 'subject'; received {"to": "a@b.c"}"#)
    }

    @Test func theBodyReceivesDecodedArgumentsAndContext() async throws {
        let app = app()
        let received = Received()
        let send = try app.task("send") { (email: SendEmail, context: JobContext) in
            received.append("\(email.to) \(email.subject) job \(context.job.id)")
        }
        try await send.definition.run(
            arguments: #"{"to": "a@b.c", "subject": "Hi"}"#, context: JobContext(job: Job(id: 7, queue: "default", taskName: "send"))
        )
        #expect(received.lines == ["a@b.c Hi job 7"])
    }
}
