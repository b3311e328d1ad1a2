package otlpwire

import (
	"math"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of opentelemetry.proto.common.v1 and .resource.v1.
const (
	anyString = 1 // AnyValue.string_value
	anyBool   = 2 // AnyValue.bool_value
	anyInt    = 3 // AnyValue.int_value
	anyDouble = 4 // AnyValue.double_value
	anyArray  = 5 // AnyValue.array_value
	anyKvlist = 6 // AnyValue.kvlist_value
	anyBytes  = 7 // AnyValue.bytes_value

	listValues = 1 // ArrayValue.values, KeyValueList.values

	keyValueKey   = 1 // KeyValue.key
	keyValueValue = 2 // KeyValue.value

	scopeName       = 1 // InstrumentationScope.name
	scopeVersion    = 2 // InstrumentationScope.version
	scopeAttributes = 3 // InstrumentationScope.attributes

	resourceAttributes = 1 // Resource.attributes
)

// appendAttributes appends each of attrs as the KeyValue field num.
func appendAttributes(b []byte, num protowire.Number, attrs []attribute.KeyValue) []byte {
	for _, kv := range attrs {
		b = appendKeyValue(b, num, kv)
	}
	return b
}

// appendIter appends each attribute of it as the KeyValue field num.
func appendIter(b []byte, num protowire.Number, it attribute.Iterator) []byte {
	for it.Next() {
		b = appendKeyValue(b, num, it.Attribute())
	}
	return b
}

// appendKeyValue appends kv as the KeyValue field num.
func appendKeyValue(b []byte, num protowire.Number, kv attribute.KeyValue) []byte {
	b, start := openMessage(b, num)
	b = appendString(b, keyValueKey, string(kv.Key))
	b = appendValue(b, keyValueValue, kv.Value)
	return closeMessage(b, start)
}

// appendValue appends v as the AnyValue field num, as the SDK's exporters
// map it: slices of every kind become an ArrayValue, a map a KeyValueList,
// an empty value an AnyValue with none set, and a value of a type they do
// not know the string "INVALID".
func appendValue(b []byte, num protowire.Number, v attribute.Value) []byte {
	b, start := openMessage(b, num)
	switch v.Type() {
	case attribute.BOOL:
		b = appendBool(b, v.AsBool())
	case attribute.INT64:
		b = appendInt(b, v.AsInt64())
	case attribute.FLOAT64:
		b = appendDouble(b, v.AsFloat64())
	case attribute.STRING:
		b = appendStringAlways(b, anyString, v.AsString())
	case attribute.BYTESLICE:
		b = appendBytesAlways(b, anyBytes, v.AsByteSlice())
	case attribute.BOOLSLICE:
		b = appendArray(b, v.AsBoolSlice(), appendBool)
	case attribute.INT64SLICE:
		b = appendArray(b, v.AsInt64Slice(), appendInt)
	case attribute.FLOAT64SLICE:
		b = appendArray(b, v.AsFloat64Slice(), appendDouble)
	case attribute.STRINGSLICE:
		b = appendArray(b, v.AsStringSlice(), appendStringValue)
	case attribute.SLICE:
		var array mark
		b, array = openMessage(b, anyArray)
		for _, e := range v.AsSlice() {
			b = appendValue(b, listValues, e)
		}
		b = closeMessage(b, array)
	case attribute.MAP:
		var list mark
		b, list = openMessage(b, anyKvlist)
		b = appendAttributes(b, listValues, v.AsMap())
		b = closeMessage(b, list)
	case attribute.EMPTY:
	default:
		b = appendStringAlways(b, anyString, "INVALID")
	}
	return closeMessage(b, start)
}

// appendArray appends vals as the ArrayValue of an AnyValue, each element
// an AnyValue whose one field appendOne appends.
func appendArray[T any](b []byte, vals []T, appendOne func([]byte, T) []byte) []byte {
	b, array := openMessage(b, anyArray)
	for _, v := range vals {
		var elem mark
		b, elem = openMessage(b, listValues)
		b = appendOne(b, v)
		b = closeMessage(b, elem)
	}
	return closeMessage(b, array)
}

// The fields of an AnyValue's oneof, which are written even when zero.

func appendBool(b []byte, v bool) []byte {
	b = appendTag(b, anyBool, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(v))
}

func appendInt(b []byte, v int64) []byte {
	b = appendTag(b, anyInt, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v)) // #nosec G115 -- int64 is sent as its two's complement
}

func appendDouble(b []byte, v float64) []byte {
	b = appendTag(b, anyDouble, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(v))
}

func appendStringValue(b []byte, v string) []byte {
	return appendStringAlways(b, anyString, v)
}

// appendResource appends res's attributes as the Resource field num.
func appendResource(b []byte, num protowire.Number, res *resource.Resource) []byte {
	b, start := openMessage(b, num)
	b = appendIter(b, resourceAttributes, res.Iter())
	return closeMessage(b, start)
}

// appendScope appends scope as the InstrumentationScope field num, or
// nothing for the zero scope, as the SDK's exporters do.
func appendScope(b []byte, num protowire.Number, scope instrumentation.Scope) []byte {
	if scope == (instrumentation.Scope{}) {
		return b
	}
	b, start := openMessage(b, num)
	b = appendString(b, scopeName, scope.Name)
	b = appendString(b, scopeVersion, scope.Version)
	b = appendIter(b, scopeAttributes, scope.Attributes.Iter())
	return closeMessage(b, start)
}
