import CLibPQ

/// Statement parameters in the form libpq takes: type OIDs and NUL-terminated text values, all packed into one
/// buffer so a statement costs one allocation however many parameters it has.
struct EncodedParameters: Sendable {
    private var types: [Oid] = []
    private var buffer: [UInt8] = []
    /// Offset of each value in `buffer`, or nil for NULL.
    private var offsets: [Int?] = []

    init(_ binds: [any PostgresEncodable]) throws {
        types.reserveCapacity(binds.count)
        offsets.reserveCapacity(binds.count)
        for (index, bind) in binds.enumerated() {
            types.append(type(of: bind).postgresType.rawValue)
            let text: String?
            do {
                text = try bind.postgresText()
            } catch var error as PostgresError {
                error.message = "Parameter $\(index + 1): \(error.message)"
                throw error
            }
            guard let text else {
                offsets.append(nil)
                continue
            }
            offsets.append(buffer.count)
            buffer.append(contentsOf: text.utf8)
            buffer.append(0)
        }
    }

    var count: Int { types.count }

    func withPointers<R>(
        _ body: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> R {
        // UTF-8 bytes as libpq's chars: the two are the same size and may alias.
        buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                    offset.map { chars.baseAddress! + $0 }
                }
                return types.withUnsafeBufferPointer { types in
                    values.withUnsafeBufferPointer { values in
                        body(Int32(types.count), types.baseAddress, values.baseAddress)
                    }
                }
            }
        }
    }
}
