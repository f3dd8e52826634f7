import ArgumentParser
import CicloDelivery
import CicloScheduler
import Foundation
import Logging
import Postgres

/// `ciclo preview`: what a worker would send one customer for one campaign, rendered by the worker's own handler
/// with the worker's configuration (providers left unset get stand-in endpoints, as for the outbox). Sends nothing.
struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Print exactly what would be sent to a customer for a campaign; sends nothing.",
        discussion: """
            Exit status: 0 when a worker would send the message printed, 2 when it would not (the reason is \
            printed first), 66 when the campaign or customer does not exist, 65 for a bad --channel or --variant, \
            69 when the database cannot answer.
            """)

    @Option(help: "The campaign's key.") var campaign: String
    @Option(help: "The customer's external id.") var customer: String
    @Option(help: "The channel; it must be the campaign's (the default).") var channel: String?
    @Option(help: "The variant (default: the campaign's first).") var variant: String?

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.preview")
            let delivery = try environment.forOutbox(try environment.deliveryConfiguration())
            let conn = try await PostgresConnection.connect(
                configuration: try environment.database(applicationName: "ciclo-preview"), logger: logger)
            let outcome: (result: Preview.Result, variants: [String])
            do {
                outcome = try await preview(with: Preview(configuration: delivery, logger: logger), on: conn)
            } catch {
                await conn.close()
                throw error
            }
            await conn.close()
            let result = outcome.result
            if case .failed(let failure) = result.outcome, !failure.permanent {
                // With nothing sent, only the database (the template lookup) can fail this way.
                throw UserError(description: "Could not render the preview: \(failure.message).", exitCode: 69)
            }
            print(PreviewReport.render(result, campaign: campaign, customer: customer, variants: outcome.variants))
            if !result.wouldSend { throw ExitCode(2) }
        }
    }

    private func preview(
        with preview: Preview, on conn: PostgresConnection
    ) async throws -> (result: Preview.Result, variants: [String]) {
        guard let stored = try await CampaignStore(connection: conn).load(key: campaign) else {
            throw UserError(description: "No campaign has the key \"\(campaign)\".", exitCode: 66)
        }
        let definition = stored.campaign
        if let channel, channel != definition.channel {
            throw UserError(
                description: "Campaign \(campaign) sends on \(definition.channel), not \(channel).", exitCode: 65)
        }
        let variants = definition.variants.map(\.name)
        let chosen = variant ?? variants.first ?? "default"
        guard variants.isEmpty || variants.contains(chosen) else {
            throw UserError(
                description: "Campaign \(campaign) has no variant \"\(chosen)\"; its variants are "
                    + variants.joined(separator: ", ") + ".", exitCode: 65)
        }
        do {
            let result = try await preview.render(
                campaign: campaign, customer: customer, channel: definition.channel, variant: chosen,
                variables: definition.variables, on: conn)
            return (result, variants)
        } catch let problem as Preview.Problem {
            throw UserError(
                description: problem.description.prefix(1).uppercased() + problem.description.dropFirst() + ".",
                exitCode: 66)
        }
    }
}
