import CicloChannels
import Foundation
import Logging
import Postgres
import Synchronization

/// The compiled templates a worker renders with, loaded from message_templates on first use and kept for a
/// while: a new version reaches running workers within `ttl`, and a send never compiles a template.
public final class TemplateStore: Sendable {
    /// A compiled template and the row it came from.
    public struct Entry: Sendable {
        public var template: MessageTemplate
        public var version: Int
        public var locale: String
        public var channel: String
    }

    private struct Key: Hashable {
        var campaignID: Int64
        var variant: String
        var locale: String
    }

    private let connection: PostgresConnection
    private let ttl: Duration
    private let cache = Mutex<[Key: (entry: Result<Entry, TemplateLookupError>, loadedAt: ContinuousClock.Instant)]>([:])

    public init(connection: PostgresConnection, ttl: Duration = .seconds(60)) {
        self.connection = connection
        self.ttl = ttl
    }

    /// The newest version for the customer's locale, else its language (pt-BR → pt), else English.
    static let latestSQL = """
        SELECT t.version, t.locale, t.channel, t.parts, t.variables
        FROM unnest($3::text[]) WITH ORDINALITY AS l(locale, preference)
        JOIN LATERAL (
            SELECT * FROM message_templates m
            WHERE m.campaign_id = $1 AND m.variant = $2 AND m.locale = l.locale
            ORDER BY m.version DESC LIMIT 1
        ) t ON true
        ORDER BY l.preference
        LIMIT 1
        """

    public func template(campaignID: Int64, variant: String, locale: String) async -> Result<Entry, TemplateLookupError> {
        let key = Key(campaignID: campaignID, variant: variant, locale: locale)
        if let cached = cache.withLock({ $0[key] }), ContinuousClock.now - cached.loadedAt < ttl {
            return cached.entry
        }
        let entry = await load(key)
        // A database error is not cached: the next send tries again.
        if case .failure(.unavailable) = entry { return entry }
        cache.withLock { $0[key] = (entry, .now) }
        return entry
    }

    private func load(_ key: Key) async -> Result<Entry, TemplateLookupError> {
        var locales = [key.locale]
        if let language = key.locale.split(separator: "-").first.map(String.init), language != key.locale {
            locales.append(language)
        }
        if !locales.contains("en") { locales.append("en") }
        let rows: PostgresRows
        do {
            rows = try await connection.query(Self.latestSQL, [key.campaignID, key.variant, locales], prepared: true)
        } catch {
            return .failure(.unavailable("\(error)"))
        }
        guard let row = rows.first else {
            return .failure(.notFound("campaign \(key.campaignID) has no template for variant \(key.variant)"))
        }
        do {
            let version: Int = try row.decode(at: 0)
            let locale: String = try row.decode(at: 1)
            let channel: String = try row.decode(at: 2)
            let parts = try row.decode(JSONB.self, at: 3).decode([String: String].self)
            let variables = try row.decode(JSONB.self, at: 4).decode([TemplateVariable].self)
            let template = try MessageTemplate(
                name: "campaign \(key.campaignID)/\(key.variant)/\(locale)/v\(version)",
                // Only the html part escapes values for HTML; subjects, text, SMS and push bodies are plain text.
                parts: Dictionary(uniqueKeysWithValues: parts.map { name, source in
                    (name, (kind: name == "html" ? MessageTemplate.PartKind.html : .text, source: source))
                }),
                variables: variables)
            return .success(Entry(template: template, version: version, locale: locale, channel: channel))
        } catch {
            return .failure(.invalid("\(error)"))
        }
    }
}

/// Why no template could be had for a send.
public enum TemplateLookupError: Error, Sendable, Equatable {
    /// The database could not be asked; transient.
    case unavailable(String)
    /// No template for the campaign and variant; the send is suppressed (render_failed).
    case notFound(String)
    /// The stored template does not compile (it was stored around `campaign apply`); suppressed (render_failed).
    case invalid(String)
}
