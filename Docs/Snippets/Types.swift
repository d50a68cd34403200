import Foundation
import Procrastinate

// Types the snippets share.

struct SendEmail: Codable, Sendable {
    var to: String
    var subject: String
}

/// Stands for the application's mail client.
enum Mailer {
    static func send(_ email: SendEmail) async throws {}
}

/// Stands for a third-party API the tasks call.
enum PaymentsAPI {
    struct Unavailable: Error {}
    static func charge(order: Int) async throws {}
}

struct Transfer: Codable, Sendable {
    var account: Int
    var amount: Int
}

struct Tick: Codable, Sendable {
    var timestamp: Int
}

struct Charge: Codable, Sendable {
    var order: Int
}
