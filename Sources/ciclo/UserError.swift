import ArgumentParser
import CicloCampaigns
import CicloImport
import CicloScheduler
import CicloSchema
import Foundation
import Postgres

/// An error as a person sees it: one sentence on what went wrong and what to do, and an exit status scripts can
/// rely on (documented in the README).
struct UserError: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32

    /// 78 (EX_CONFIG): the configuration is wrong.
    static func configuration(_ message: String) -> UserError { UserError(description: message + ".", exitCode: 78) }

    /// Runs a command body and turns every error into a printed sentence and an exit status.
    static func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as UserError {
            try fail(error)
        } catch let error as PostgresError {
            switch error.code {
            case .connectionFailed, .connectionLost:
                try fail(UserError(description: error.description, exitCode: 69))  // EX_UNAVAILABLE
            default:
                try fail(UserError(description: error.description, exitCode: 1))
            }
        } catch let error as Migrator.Conflict {
            try fail(UserError(description: error.description, exitCode: 65))  // EX_DATAERR
        } catch let error as ConfigError {
            try fail(UserError(description: error.description, exitCode: 65))  // EX_DATAERR: a bad input file
        } catch let error as CampaignStoreError {
            // A campaign that is not there is missing input; a refused status change is bad input.
            try fail(UserError(description: error.description + ".", exitCode: error.code == .notFound ? 66 : 65))
        } catch let error as MigrationLoader.LoadError {
            try fail(UserError(description: error.description, exitCode: 66))  // EX_NOINPUT
        } catch let error as ImportError {
            switch error.code {
            case .unreadable: try fail(UserError(description: error.description, exitCode: 66))  // EX_NOINPUT
            case .unknownFormat: try fail(UserError(description: error.description, exitCode: 64))  // EX_USAGE
            case .rejectsUnwritable: try fail(UserError(description: error.description, exitCode: 73))  // EX_CANTCREAT
            default: try fail(UserError(description: error.description, exitCode: 65))  // EX_DATAERR
            }
        } catch let error as ExitCode {
            throw error
        } catch is CancellationError {
            try fail(UserError(description: "Interrupted.", exitCode: 130))
        } catch {
            // Unknown errors are named by type only: their descriptions may carry configuration or data.
            try fail(UserError(description: "Unexpected \(type(of: error)); run again with CICLO_LOG_LEVEL=debug for details.", exitCode: 1))
        }
    }

    private static func fail(_ error: UserError) throws -> Never {
        FileHandle.standardError.write(Data("ciclo: error: \(error.description)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}
