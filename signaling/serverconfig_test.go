package signaling

import (
	"log/slog"
	"reflect"
	"testing"
)

// TestCopyConfigCoversEveryField sets every exported field of a Server to a
// non-zero value by reflection, copies it with copyConfig and checks that
// each field arrived (a field added to Server cannot be forgotten) and that
// slices are copies, not shared with the caller's Server.
func TestCopyConfigCoversEveryField(t *testing.T) {
	var src Server
	v := reflect.ValueOf(&src).Elem()
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		case reflect.String:
			f.SetString(sf.Name)
		case reflect.Slice:
			switch f.Interface().(type) {
			case []string:
				f.Set(reflect.ValueOf([]string{sf.Name}))
			case []byte:
				f.Set(reflect.ValueOf([]byte(sf.Name)))
			case []ICEServer:
				f.Set(reflect.ValueOf([]ICEServer{{URLs: []string{"stun:" + sf.Name}, Username: "u", Credential: "c"}}))
			default:
				t.Fatalf("field %s: slice type %s not covered by this test", sf.Name, f.Type())
			}
		case reflect.Pointer, reflect.Interface:
			switch f.Type() {
			case reflect.TypeFor[*slog.Logger]():
				f.Set(reflect.ValueOf(slog.New(slog.DiscardHandler)))
			case reflect.TypeFor[Backplane]():
				f.Set(reflect.ValueOf(NewMemoryBackplane()))
			default:
				t.Fatalf("field %s: type %s not covered by this test", sf.Name, f.Type())
			}
		default:
			t.Fatalf("field %s: kind %s not covered by this test", sf.Name, f.Kind())
		}
		if f.IsZero() {
			t.Fatalf("field %s still zero", sf.Name)
		}
	}
	var dst Server
	copyConfig(&dst, &src)
	d := reflect.ValueOf(&dst).Elem()
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		if !sf.IsExported() {
			if !d.Field(i).IsZero() {
				t.Errorf("unexported (state) field %s was copied", sf.Name)
			}
			continue
		}
		if !reflect.DeepEqual(d.Field(i).Interface(), v.Field(i).Interface()) {
			t.Errorf("field %s not copied: got %v, want %v", sf.Name, d.Field(i), v.Field(i))
		}
	}
	// The copy shares no slice with the source.
	src.OriginPatterns[0] = "changed"
	src.TURNAllowPeers[0] = "changed"
	src.TokenSecret[0] = 'X'
	src.ICEServers[0].URLs[0] = "changed"
	if dst.OriginPatterns[0] == "changed" || dst.TURNAllowPeers[0] == "changed" || dst.TokenSecret[0] == 'X' ||
		dst.ICEServers[0].URLs[0] == "changed" {
		t.Errorf("copy shares a slice with the source")
	}
}
